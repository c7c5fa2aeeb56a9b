package link

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// TestQRDecodes reads the terminal text back into modules (a full block
// is two light modules, a space two dark, the half blocks one of each)
// and decodes the picture: it holds the URI.
func TestQRDecodes(t *testing.T) {
	uri := testURI(t).String()
	text, err := QR(uri)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	width := len([]rune(lines[0]))
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, width*scale, 2*len(lines)*scale))
	for y, line := range lines {
		for x, r := range []rune(line) {
			var top, bottom bool // light
			switch r {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			case ' ':
			default:
				t.Fatalf("unexpected %q in the QR text", r)
			}
			for i, light := range []bool{top, bottom} {
				c := color.Gray{0}
				if light {
					c = color.Gray{255}
				}
				for dy := range scale {
					for dx := range scale {
						img.SetGray(x*scale+dx, (2*y+i)*scale+dy, c)
					}
				}
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the terminal QR code does not decode: %v", err)
	}
	if res.GetText() != uri {
		t.Fatalf("QR decodes to %q, want %q", res.GetText(), uri)
	}
	got, err := Parse(res.GetText())
	if err != nil || got.String() != uri {
		t.Fatalf("decoded URI does not parse back: %v", err)
	}
}
