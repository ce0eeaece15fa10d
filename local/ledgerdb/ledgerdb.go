// Package ledgerdb runs a real DynamoDB implementation for the ledger on
// this machine: dynalite (npm, DynamoDB's API on LevelDB, pinned in
// package.json) on a free loopback port, in a node process that exits
// when its parent does (its standard input closes). Tests and the local
// demo create the ledger table in it from a CreateTable input.
//
// Requests go through a counting proxy (Server.Requests), so a test can
// prove how many DynamoDB calls a command makes.
package ledgerdb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/findup"
)

// Options configures Start.
type Options struct {
	// Dir keeps the tables (LevelDB); "" keeps them in memory.
	Dir string
	// NodeModules holds dynalite ("" finds node_modules/dynalite in the
	// working directory or a parent: the repository's, after npm ci).
	NodeModules string
	// Region and credentials of the client Client returns (dynalite checks
	// neither).
	Region, AccessKey, SecretKey string
}

// Server is a running dynalite behind a counting proxy.
type Server struct {
	// URL is the endpoint clients use (the proxy, on 127.0.0.1).
	URL  string
	opts Options

	cmd   *exec.Cmd
	stdin io.WriteCloser
	exit  chan error
	proxy *http.Server
	ln    net.Listener

	mu       sync.Mutex
	requests map[string]int
	once     sync.Once
}

// script starts dynalite on a free loopback port and says which on its
// first line of output; it exits when its standard input closes (the Go
// process ended, however it ended).
const script = `
const dynalite = require(process.argv[1]);
const opts = {createTableMs: 0, deleteTableMs: 0, updateTableMs: 0};
if (process.argv[2]) opts.path = process.argv[2];
const server = dynalite(opts);
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({port: server.address().port}) + '\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
`

// Start runs dynalite and the proxy in front of it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	mods := opts.NodeModules
	if mods == "" {
		var err error
		if mods, err = findNodeModules(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(mods, "dynalite", "index.js")); err != nil {
		return nil, fmt.Errorf("ledgerdb: dynalite is not in %s: run npm ci (or make node-deps) in the repository", mods)
	}
	if opts.Region == "" {
		opts.Region = "eu-west-1"
	}
	if opts.AccessKey == "" {
		opts.AccessKey, opts.SecretKey = "ledgerdb", "ledgerdb-secret"
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("ledgerdb: %w", err)
		}
	}
	cmd := exec.Command("node", "-e", script, filepath.Join(mods, "dynalite"), opts.Dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ledgerdb: start node (is Node.js installed?): %w", err)
	}
	s := &Server{opts: opts, cmd: cmd, stdin: stdin, exit: make(chan error, 1), requests: map[string]int{}}
	go func() { s.exit <- cmd.Wait() }()

	port := make(chan int, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		var p struct{ Port int }
		_ = json.Unmarshal([]byte(line), &p)
		port <- p.Port
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var p int
	select {
	case p = <-port:
	case err := <-s.exit:
		return nil, fmt.Errorf("ledgerdb: dynalite exited (%v): %s", err, strings.TrimSpace(stderr.String()))
	case <-time.After(30 * time.Second):
		s.kill()
		return nil, errors.New("ledgerdb: dynalite did not start within 30 s")
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
	if p == 0 {
		s.kill()
		return nil, fmt.Errorf("ledgerdb: dynalite did not say its port: %s", strings.TrimSpace(stderr.String()))
	}
	if err := s.serveProxy(fmt.Sprintf("http://127.0.0.1:%d", p)); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// findNodeModules looks for node_modules/dynalite from the working
// directory up.
func findNodeModules() (string, error) {
	dir, err := findup.Dir("node_modules/dynalite/index.js")
	if err != nil {
		return "", errors.New("ledgerdb: dynalite is not installed: run npm ci (or make node-deps) in the repository")
	}
	return filepath.Join(dir, "node_modules"), nil
}

// serveProxy forwards every request to dynalite and counts it by
// operation (X-Amz-Target DynamoDB_20120810.<Operation>).
func (s *Server) serveProxy(target string) error {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("ledgerdb: %w", err)
	}
	s.ln, s.URL = ln, "http://"+ln.Addr().String()
	s.proxy = &http.Server{ReadHeaderTimeout: 30 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if _, after, ok := strings.Cut(op, "."); ok {
			op = after
		}
		s.mu.Lock()
		s.requests[op]++
		s.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = s.proxy.Serve(ln) }()
	return nil
}

// Requests is how many requests of operation op ("Query", "GetItem",
// ...) the server has answered; "" counts every operation.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "" {
		return s.requests[op]
	}
	n := 0
	for _, c := range s.requests {
		n += c
	}
	return n
}

// ResetRequests sets every count to zero.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
}

// Client is a DynamoDB client for the server.
func (s *Server) Client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       s.opts.Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(s.opts.AccessKey, s.opts.SecretKey, ""),
	})
}

// CreateTable creates a table and waits until it is ACTIVE. dynalite
// implements keys, indexes and billing modes; give it what it knows (the
// caller drops SSE, PITR and TTL, which are properties of the cloud's
// table, not of its items).
func (s *Server) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput) error {
	c := s.Client()
	if _, err := c.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("ledgerdb: create table %s: %w", aws.ToString(in.TableName), err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30*time.Second); err != nil {
		return fmt.Errorf("ledgerdb: table %s not active: %w", aws.ToString(in.TableName), err)
	}
	return nil
}

// Close stops the proxy and dynalite.
func (s *Server) Close() error {
	s.once.Do(func() {
		_ = s.proxy.Close()
		s.kill()
	})
	return nil
}

// kill ends node: EOF on its stdin first, then SIGKILL if it lingers.
func (s *Server) kill() {
	_ = s.stdin.Close()
	select {
	case <-s.exit:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}

// limited keeps the first n bytes written (node's error, if it fails).
type limited struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limited) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// LedgerTable is the CreateTable input of the ledger as contract/ledger.go
// defines it: keys pk/sk, the byBoard (gpk/gsk) and byTime (tpk/tsk)
// indexes projecting every attribute, on-demand. The CDK table must have
// the same keys and indexes (the demo creates its table from the
// synthesized template; tests use this).
func LedgerTable(name string) *dynamodb.CreateTableInput {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(h, r string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String(h), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(r), KeyType: types.KeyTypeRange}}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			s(contract.LedgerPK), s(contract.LedgerSK), s(contract.LedgerGPK), s(contract.LedgerGSK), s(contract.LedgerTPK), s(contract.LedgerTSK),
		},
		KeySchema: keys(contract.LedgerPK, contract.LedgerSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(contract.IndexByBoard), KeySchema: keys(contract.LedgerGPK, contract.LedgerGSK), Projection: all},
			{IndexName: aws.String(contract.IndexByTime), KeySchema: keys(contract.LedgerTPK, contract.LedgerTSK), Projection: all},
		},
	}
}
