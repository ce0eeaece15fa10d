package download

// SetHashWindowSlack sets hashWindowSlack for a test and returns the undo.
func SetHashWindowSlack(n int) (undo func()) {
	old := hashWindowSlack
	hashWindowSlack = n
	return func() { hashWindowSlack = old }
}
