package stacks

import (
	"github.com/edge-drop/edge-drop/internal/iamcheck"
)

// coalescing: the pipe's role reads and deletes the queue's messages,
// decrypts them through SQS and starts the delivery state machine, and
// nothing else; EventBridge may send this account's events to the queue
// over TLS and use its key.
func (c *iamCase) coalescing(st string, machines map[string]string) {
	p := c.app.Pipeline
	co := p.Pipeline.Coalescer
	if co == nil {
		return
	}
	queue := c.attr(st, c.logical(p.Stack, co.Queue), "Arn")
	dlq := c.attr(st, c.logical(p.Stack, co.DeadLetterQueue), "Arn")
	key := c.attr(st, c.logical(p.Stack, co.Key), "Arn")
	pipeArn := iamEnv.ARN("pipes", "pipe/EdgeDrop-Pipeline-Coalesce") // named by CloudFormation at deploy
	queuePolicy, keyPolicy := c.resourcePolicy(queue), c.resourcePolicy(key)
	role := c.role(st, "PipelineCoalescePipeRole")

	c.assumed(st, role, "pipes.amazonaws.com", pipeArn)
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
		c.ask(true, a+" on the queue", role, a, queue, queuePolicy, tls(nil))
		c.ask(false, a+" on the dead-letter queue", role, a, dlq, c.resourcePolicy(dlq), tls(nil))
		c.ask(false, a+" on another queue", role, a, iamEnv.ARN("sqs", "other"), "", tls(nil))
	}
	c.ask(false, "sends to the queue", role, "sqs:SendMessage", queue, queuePolicy, tls(nil))
	c.ask(false, "receives over plain HTTP", role, "sqs:ReceiveMessage", queue, queuePolicy, map[string]any{"aws:SecureTransport": "false"})
	via := map[string]any{"kms:ViaService": "sqs." + iamEnv.Region + ".amazonaws.com"}
	c.ask(true, "decrypts the queue's messages through SQS", role, "kms:Decrypt", key, keyPolicy, via)
	c.ask(false, "decrypts with the key directly", role, "kms:Decrypt", key, keyPolicy, nil)
	c.ask(false, "encrypts with the key", role, "kms:Encrypt", key, keyPolicy, via)
	c.ask(true, "starts the delivery state machine", role, "states:StartExecution", machines["Pipeline"], "", nil)
	for other, arn := range machines {
		if other != "Pipeline" {
			c.ask(false, "starts "+other+"'s state machine", role, "states:StartExecution", arn, "", nil)
		}
	}
	c.ask(false, "starts another state machine", role, "states:StartExecution", iamEnv.ARN("states", "stateMachine:other"), "", nil)

	events := actor{name: "EventBridge", arn: "events.amazonaws.com"}
	rule := c.attr(st, c.logical(p.Stack, p.Pipeline.Rule), "Arn")
	from := func(account string) map[string]any {
		return tls(map[string]any{"aws:SourceAccount": account, "aws:SourceArn": rule})
	}
	c.ask(true, "sends the rule's events to the queue", events, "sqs:SendMessage", queue, queuePolicy, from(iamEnv.Account))
	c.ask(false, "sends another account's events to the queue", events, "sqs:SendMessage", queue, queuePolicy, from(otherAccount))
	c.ask(false, "sends over plain HTTP", events, "sqs:SendMessage", queue, queuePolicy,
		map[string]any{"aws:SourceAccount": iamEnv.Account, "aws:SecureTransport": "false"})
	c.ask(true, "encrypts the rule's events for the queue", events, "kms:GenerateDataKey", key, keyPolicy, map[string]any{"aws:SourceAccount": iamEnv.Account})
	c.ask(false, "encrypts another account's events", events, "kms:GenerateDataKey", key, keyPolicy, map[string]any{"aws:SourceAccount": otherAccount})
	task := c.role(st, "DownloadTaskTaskRole")
	c.ask(false, "reads the coalescing queue", task, "sqs:ReceiveMessage", queue, queuePolicy, tls(nil))
	c.ask(false, "decrypts with the coalescing key", task, "kms:Decrypt", key, keyPolicy, via)
}

var _ = iamcheck.Identity
