//go:build !unix

package folder

import "io/fs"

func inodeOf(fs.FileInfo) uint64 { return 0 }

const oNoFollow = 0
