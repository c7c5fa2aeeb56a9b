// Package share holds what sharing adds to the vault format: links that
// open one version of a file or folder (or follow the newest one at a
// path) for whoever holds them, the keys a password wraps, and reading
// what a link opens over the network (SPEC.md section 17).
package share
