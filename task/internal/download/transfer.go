package download

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/record"
)

// transfer downloads obj into the path's partial and stages it for its
// commit (5. and 6.): the target's directory and the partial (resumed from
// its progress record when it holds this version), the free-space floor
// and preallocation, the pending record, the fetch (with checkpoints),
// then the file's mtime and, where only the bytes can tell, the
// comparison with the file at the path.
func (d *delivery) transfer(ctx context.Context, obj object, p plan, res Result) (*staged, error) {
	if p.ver.Name == "" {
		d.o.Logger.Warn("integrity: " + p.ver.Note)
	}
	res.Verified = p.ver.Name
	s := &staged{d: d, ctx: ctx, rel: res.Rel, base: path.Base(res.Rel), keep: p.keep, ours: p.ours, res: res}
	if err := s.open(ctx); err != nil {
		s.abort(false)
		return nil, err
	}
	f := &fetcher{api: d.api, o: d.o, key: obj.key, etag: obj.etag, versionID: obj.versionID, size: obj.size,
		f: s.part.File, ver: p.ver, lim: d.o.Limiter, total: &d.b.Fetched}
	if err := s.prepare(f, obj, p); err != nil {
		s.abort(s.resumed) // an interrupted download stays for a later try
		return nil, err
	}
	if err := s.fetch(ctx, f, obj); err != nil {
		return nil, err
	}
	if err := s.finishFile(obj, p, f); err != nil {
		s.abort(false)
		return nil, err
	}
	return s, nil
}

// open opens the target's directory (creating it) and the path's
// partial, in the state dir (same file system: atomic rename; a killed
// task's partial is found by the next delivery of the path, or reclaimed).
func (s *staged) open(ctx context.Context) error {
	root, dir := s.d.b.root, path.Dir(s.rel)
	df, err := openDir(root, dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return rootErr(fmt.Errorf("create %s: %w", dir, err))
		}
		df, err = openDir(root, dir)
	}
	if err != nil {
		return rootErr(fmt.Errorf("open %s: %w", dir, err))
	}
	s.dir = df
	if s.part, err = s.d.b.state.OpenPartial(ctx, s.rel); err != nil {
		if ctx.Err() != nil {
			return exitcode.New(classify(ctx, err), err)
		}
		return rootErr(err)
	}
	return nil
}

// openDir opens a directory inside root (never a FIFO or device that
// would block the open).
func openDir(root *os.Root, dir string) (*os.File, error) {
	return root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
}

// prepare resumes the partial when its progress record is of this very
// download, else starts it over; then it reserves the space (the floor,
// preallocation) and writes the pending record.
func (s *staged) prepare(f *fetcher, obj object, p plan) error {
	d := s.d
	var raw []byte
	if !s.part.Fresh {
		raw, _ = s.part.Progress()
	}
	if raw != nil && f.resume(raw) {
		s.resumed = true
		var have int64
		for _, pp := range f.parts {
			have += pp.written
		}
		d.o.Logger.Info("resuming an interrupted download", "key", obj.key, "path", s.rel, "bytes_on_disk", have, "of", obj.size)
	} else {
		if !s.part.Fresh {
			s.part.DropProgress()
			if err := s.part.File.Truncate(0); err != nil {
				return exitcode.Errorf(exitcode.LocalIO, "start %s over: %w", s.part.Name(), err)
			}
		}
		f.plan(d.o.PartSize)
	}
	what := fmt.Sprintf("delivering s3://%s/%s (%s)", d.o.Bucket, obj.key, human(obj.size))
	release, mem, err := d.reserve(s.part.File, s.part.Fresh, obj.size, s.rel, what)
	if err != nil {
		return err
	}
	s.release, s.mem = release, mem
	s.nr = d.newRecord(obj, s.rel, p.ver, p.ver.partSize)
	s.nr.Previous = p.previous
	if s.rv, err = d.b.records.Reserve(s.nr); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "the delivery record of %s does not fit (nothing changed): %w", s.rel, err)
	}
	return nil
}

// fetch runs the fetcher, recording its progress while it runs. A failure
// that the next delivery can resume from (a signal, a timeout, the
// network) keeps the partial and its progress; any other discards them.
func (s *staged) fetch(ctx context.Context, f *fetcher, obj object) error {
	o := s.d.o
	if o.OnTransfer != nil {
		o.OnTransfer(obj.size)
	}
	var cp *checkpointer
	if o.Partials.MaxAge > 0 && obj.size > 0 {
		cp = startCheckpoints(f, s.part, f.partSize, !s.mem, o.Hooks.Checkpoint)
	}
	err := f.run(ctx)
	keep := err != nil && cp != nil && resumable(ctx, err)
	if cp != nil {
		keep = cp.end(keep)
	}
	if err != nil {
		if keep {
			o.Logger.Info("download interrupted; kept for the next delivery of this version to resume",
				"key", obj.key, "path", s.rel, "bytes_kept", cp.last, "of", obj.size, "partial", s.part.Name())
		}
		s.abort(keep)
		return exitcode.New(classify(ctx, err), err)
	}
	s.res.Resumes, s.res.Kept, s.res.Fetched = f.resumes, f.kept.Load(), f.fetched.Load()
	return nil
}

// finishFile gives the verified file its mtime, decides by comparison
// where no check could run on disk, and names the file in the pending
// record (its checksum's part size, its identity before the rename).
func (s *staged) finishFile(obj object, p plan, f *fetcher) error {
	d := s.d
	if d.o.Hooks.BeforeCommit != nil {
		d.o.Hooks.BeforeCommit()
	}
	if !obj.lastMod.IsZero() {
		if err := s.part.Chtimes(obj.lastMod); err != nil {
			return exitcode.Errorf(exitcode.LocalIO, "set mtime: %w", err)
		}
	}
	if p.compare {
		same, err := sameBytes(d.b.root, s.rel, s.part.File, obj.size)
		if err != nil {
			return err
		}
		s.keep = !same
		s.res.UpToDate = same // the path held this version already (now proven by the download)
	}
	fi, err := s.part.File.Stat()
	if err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "stat %s: %w", s.part.Name(), err)
	}
	if id, ok := record.IdentityOf(fi); ok {
		s.nr.Staged = &id
	}
	if p.ver.byParts {
		s.nr.PartSize = f.uniformPartSize()
	}
	if err := s.rv.Stage(s.nr); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "the delivery record of %s: %w", s.rel, err)
	}
	return nil
}
