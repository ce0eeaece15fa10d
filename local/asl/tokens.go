package asl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"unicode/utf8"
)

// TaskTokens issues the task tokens of Task states ($$.Task.Token) and lets
// whoever holds one complete the pending state, as Step Functions'
// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat do. AWS allows
// that for activity workers, Task states using the callback pattern "and
// optionally Task states using the job run pattern" (API reference,
// SendTaskSuccess): a .sync state ends with whichever comes first, the
// token or the job's end. Here, too, every Task state attempt gets a
// token; the state ends with the token's result if it arrives before the
// handler returns (or with it, if both are there), else with the
// handler's.
//
// One TaskTokens serves any number of executions (share it through
// Options.Tokens) and is safe for concurrent use. Tokens are a random
// nonce and its HMAC under a key of this TaskTokens, so that a token that
// was issued here and is no longer pending is told apart from one that
// never was without keeping every token ever issued.
type TaskTokens struct {
	key     []byte
	mu      sync.Mutex
	pending map[string]*pendingTask
}

// NewTaskTokens returns an empty registry with a fresh key.
func NewTaskTokens() *TaskTokens {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &TaskTokens{key: key, pending: map[string]*pendingTask{}}
}

// pendingTask is one Task state attempt waiting for its token.
type pendingTask struct {
	token  string
	result chan taskOutcome // buffered: the first completion
}

const (
	tokenNonce = 16
	tokenMAC   = 16
	// MaxTaskTokenLength is the API's limit for taskToken.
	MaxTaskTokenLength = 2048
	// MaxTaskOutputBytes is SendTaskSuccess' limit for output (256 KiB).
	MaxTaskOutputBytes = 262144
	maxTaskErrorChars  = 256
)

// Error codes of the SendTask* calls, as the Step Functions API names them.
const (
	CodeInvalidToken       = "InvalidToken"
	CodeTaskDoesNotExist   = "TaskDoesNotExist"
	CodeTaskTimedOut       = "TaskTimedOut"
	CodeInvalidOutput      = "InvalidOutput"
	CodeValidationError    = "ValidationException"
	taskTimedOutMessage    = "Task Timed Out: 'Provided task does not exist anymore'"
	taskDoesNotExistReason = "the token was not issued by this Step Functions endpoint"
)

// TokenError is a SendTask* call's error: Code is the exception the API
// answers with (InvalidToken, TaskDoesNotExist, TaskTimedOut,
// InvalidOutput, ValidationException).
type TokenError struct{ Code, Message string }

func (e *TokenError) Error() string { return e.Code + ": " + e.Message }

func (t *TaskTokens) mac(nonce []byte) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write(nonce)
	return h.Sum(nil)[:tokenMAC]
}

// issue makes a token for one attempt of a Task state and registers it.
func (t *TaskTokens) issue() *pendingTask {
	nonce := make([]byte, tokenNonce)
	_, _ = rand.Read(nonce)
	tok := base64.RawURLEncoding.EncodeToString(append(nonce, t.mac(nonce)...))
	p := &pendingTask{token: tok, result: make(chan taskOutcome, 1)}
	t.mu.Lock()
	t.pending[tok] = p
	t.mu.Unlock()
	return p
}

// close ends a token's life: later calls with it answer TaskTimedOut.
func (t *TaskTokens) close(p *pendingTask) {
	t.mu.Lock()
	delete(t.pending, p.token)
	t.mu.Unlock()
}

// verify checks that token is one this registry issued (pending or not).
func (t *TaskTokens) verify(token string) error {
	if len(token) == 0 || len(token) > MaxTaskTokenLength {
		return &TokenError{CodeInvalidToken, fmt.Sprintf("Invalid Token: the task token must be 1 to %d characters, got %d", MaxTaskTokenLength, len(token))}
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenNonce+tokenMAC {
		return &TokenError{CodeInvalidToken, fmt.Sprintf("Invalid Token: %q", cut(token, 64))}
	}
	if !hmac.Equal(raw[tokenNonce:], t.mac(raw[:tokenNonce])) {
		return &TokenError{CodeTaskDoesNotExist, "Task Does Not Exist: " + taskDoesNotExistReason}
	}
	return nil
}

// complete hands o to the attempt that token belongs to, once.
func (t *TaskTokens) complete(token string, o taskOutcome) error {
	if err := t.verify(token); err != nil {
		return err
	}
	t.mu.Lock()
	p, ok := t.pending[token]
	delete(t.pending, token)
	t.mu.Unlock()
	if !ok {
		return &TokenError{CodeTaskTimedOut, taskTimedOutMessage}
	}
	p.result <- o
	return nil
}

// SendTaskSuccess ends the pending Task state of token with output (JSON)
// as its result.
func (t *TaskTokens) SendTaskSuccess(token, output string) error {
	if len(output) > MaxTaskOutputBytes {
		return &TokenError{CodeInvalidOutput, fmt.Sprintf("Invalid Output: %d bytes, more than the %d allowed", len(output), MaxTaskOutputBytes)}
	}
	v, err := decodeJSON([]byte(output))
	if err != nil {
		return &TokenError{CodeInvalidOutput, "Invalid Output: not JSON: " + err.Error()}
	}
	return t.complete(token, taskOutcome{v: v})
}

// SendTaskFailure fails the pending Task state of token with errName and
// cause (Retry and Catch match errName as for any error).
func (t *TaskTokens) SendTaskFailure(token, errName, cause string) error {
	if n := utf8.RuneCountInString(errName); n > maxTaskErrorChars {
		return &TokenError{CodeValidationError, fmt.Sprintf("1 validation error detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to %d (got %d)", maxTaskErrorChars, n)}
	}
	if n := utf8.RuneCountInString(cause); n > maxCauseChars {
		return &TokenError{CodeValidationError, fmt.Sprintf("1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to %d (got %d)", maxCauseChars, n)}
	}
	return t.complete(token, taskOutcome{serr: &stateError{name: errName, cause: cause}})
}

// SendTaskHeartbeat says the task of token is still at work. The state's
// HeartbeatSeconds is not enforced here, so this only checks the token.
func (t *TaskTokens) SendTaskHeartbeat(token string) error {
	if err := t.verify(token); err != nil {
		return err
	}
	t.mu.Lock()
	_, ok := t.pending[token]
	t.mu.Unlock()
	if !ok {
		return &TokenError{CodeTaskTimedOut, taskTimedOutMessage}
	}
	return nil
}

// cut keeps at most n bytes of s for a message.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
