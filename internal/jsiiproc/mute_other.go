//go:build !unix

package jsiiproc

// muteStderr does nothing where file descriptors cannot be redirected; the
// harmless jsii line may then appear.
func muteStderr() (restore func()) { return func() {} }
