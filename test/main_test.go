package test

import (
	"os"
	"testing"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestMain removes the binaries the LAN tests built once they are done.
func TestMain(m *testing.M) {
	code := m.Run()
	lantest.RemoveBinaries()
	os.Exit(code)
}
