package link

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QR renders a URI as a QR code for a terminal: two rows of modules per
// line in half-block characters, dark on a light background, with the
// quiet zone around it.
func QR(uri string) (string, error) {
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("failed to make the QR code: %w", err)
	}
	return q.ToSmallString(false), nil
}
