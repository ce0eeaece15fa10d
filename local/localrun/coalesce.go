package localrun

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/local/assembly"
	"github.com/edge-drop/edge-drop/local/bucket"
)

// Coalescing, locally: the stand-in for the SQS queue and the EventBridge
// Pipe of a rule whose target is a queue (coalesceWindow). Events wait per
// pipe; a batch goes to the pipe's state machine as one execution, its
// input the list of SQS records Pipes hands a Step Functions target, when
// it holds the pipe's BatchSize events or when the pipe's window has passed
// since its first event (both read from the template).

// batcher is one pipe's waiting events.
type batcher struct {
	mu      sync.Mutex
	pending []queued
	timer   *time.Timer
	n       int // batches sent
}

type queued struct {
	event []byte
	note  bucket.Notification
}

// pipeBatchers holds the batchers, by pipe.
type pipeBatchers struct {
	mu sync.Mutex
	by map[string]*batcher
}

func pipeOf(r assembly.Rule, pipes []assembly.Pipe) (*assembly.Pipe, error) {
	if r.QueueARN == "" {
		return nil, nil
	}
	for i := range pipes {
		if pipes[i].QueueARN == r.QueueARN {
			return &pipes[i], nil
		}
	}
	return nil, fmt.Errorf("rule %s sends to the queue %s, which no pipe reads", r.Name, r.QueueARN)
}

func (p *Pipeline) batcherOf(t target) *batcher {
	p.pipes.mu.Lock()
	defer p.pipes.mu.Unlock()
	if p.pipes.by == nil {
		p.pipes.by = map[string]*batcher{}
	}
	b, ok := p.pipes.by[t.pipe.Name]
	if !ok {
		b = &batcher{}
		p.pipes.by[t.pipe.Name] = b
	}
	return b
}

// enqueue adds an event to its pipe's batch, sending the batch when full
// (or, by its timer, when the window has passed).
func (p *Pipeline) enqueue(ctx context.Context, t target, event []byte, o bucket.Notification) {
	b := p.batcherOf(t)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, queued{event: event, note: o})
	if len(b.pending) == 1 && len(b.pending) < t.pipe.BatchSize {
		b.timer = time.AfterFunc(t.pipe.Window, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			p.send(ctx, t, b)
		})
	}
	if len(b.pending) >= t.pipe.BatchSize {
		p.send(ctx, t, b)
	}
}

// send starts one execution with the waiting events (b.mu held).
func (p *Pipeline) send(ctx context.Context, t target, b *batcher) {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.pending) == 0 {
		return
	}
	batch := b.pending
	b.pending = nil
	b.n++
	records := make([]any, len(batch))
	notes := make([]bucket.Notification, len(batch))
	for i, q := range batch {
		sum := md5.Sum(q.event)
		records[i] = map[string]any{
			"messageId": fmt.Sprintf("%s-%d-%d", t.pipe.Name, b.n, i), "receiptHandle": "local", "body": string(q.event),
			"attributes": map[string]any{"ApproximateReceiveCount": "1"}, "messageAttributes": map[string]any{},
			"md5OfBody": hex.EncodeToString(sum[:]), "eventSource": "aws:sqs", "eventSourceARN": t.pipe.QueueARN, "awsRegion": Region,
		}
		notes[i] = q.note
	}
	name := fmt.Sprintf("%s-batch-%d", time.Now().UTC().Format("150405"), b.n)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.results <- p.execute(ctx, t.machine, name, records, Result{Rule: t.rule.Name, Event: notes[0], Batch: notes}, nil)
	}()
}

// flushAll: the run is closing (the bucket closed); waiting events are
// dropped, as a stopped pipe leaves them in its queue, and their timers
// stopped.
func (p *Pipeline) flushAll(ctx context.Context) {
	p.pipes.mu.Lock()
	defer p.pipes.mu.Unlock()
	for _, b := range p.pipes.by {
		b.mu.Lock()
		b.n++
		b.pending = nil // the run is closing: nothing will read their results
		if b.timer != nil {
			b.timer.Stop()
		}
		b.mu.Unlock()
	}
}
