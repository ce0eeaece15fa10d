package download

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/record"
)

// plan is what a delivery does with the file at its path.
type plan struct {
	ver     verifier
	ours    bool // the path's record is this key's
	keep    bool // keep the file at the path as a conflict copy
	compare bool // decide keep after the download, by comparing bytes
	// previous is what edge-drop had delivered at the path when the file
	// there is that delivery (the new record keeps it: record.Previous).
	previous *record.Delivered
}

// atPath is what a delivery finds at its path.
type atPath struct {
	fi      fs.FileInfo // nil: nothing there
	rec     record.Record
	haveRec bool
	// pending are records of deliveries that may have put the file there
	// without finishing their record (a crash between the rename and the
	// record): the reservation left in records/, or a record that was
	// renamed into place still in its pending form.
	pending []record.Record
	stale   bool // a reservation is left in records/
}

// decide looks at the path (4.): its record (and what a crashed delivery
// left) and one lstat. The file there is one of: nothing; the key's own
// delivery, untouched since (its identity matches the record): up to date
// (done) or replaced; another key's (the one-owner rule: this key may
// lose, done); or anything else (touched since, an old record without
// identity, no record): then its content decides.
func (d *delivery) decide(ctx context.Context, obj object, head *s3.HeadObjectOutput, res *Result) (plan, bool, error) {
	at, err := d.look(obj.key, res)
	if err != nil {
		return plan{}, false, err
	}
	p := plan{ours: at.haveRec && at.rec.Key == obj.key && (at.rec.Bucket == "" || at.rec.Bucket == d.o.Bucket)}
	res.Superseded = d.superseded(obj.key, obj.etag, obj.size, at.rec, p.ours)
	// One owner per path: another key's record is a contest.
	if at.haveRec && !p.ours {
		lost, err := d.contestPath(ctx, obj, at.rec, res)
		if err != nil || lost {
			return p, lost, err // a reservation left here is the owner's to use
		}
	}
	// Up to date = the record names this version and the file is the one
	// it was committed as. Size and mtime alone never decide: two uploads
	// within one second can have the same size and LastModified, and a
	// person's edit can keep both.
	current := p.ours && at.rec.Holds(obj.etag, obj.versionID, obj.size)
	untouched := at.fi != nil && at.haveRec && !at.rec.Pending && at.rec.File.Matches(at.fi)
	if current && untouched {
		res.UpToDate = true
		d.noteSequencer(at.rec, obj.etag)
		d.dropStale(at, res.Rel)
		return p, true, nil
	}
	p.ver = chooseVerifier(ctx, d.api, d.o.Bucket, obj.key, obj.etag, obj.size, head)
	switch {
	case at.fi == nil:
		return p, false, nil // nothing there
	case untouched: // edge-drop's delivery, untouched: replaced
		prev := at.rec.Delivered()
		p.previous = &prev
		return p, false, nil
	}
	done, err := d.checkContent(ctx, obj, at, &p, res, current)
	if done {
		d.dropStale(at, res.Rel)
	}
	return p, done, err
}

// look reads the path's record, what a crashed delivery left, and the
// file there.
func (d *delivery) look(key string, res *Result) (atPath, error) {
	var at atPath
	rec, ok, err := d.b.records.Read(res.Rel)
	if err != nil {
		d.o.Logger.Warn("ignoring the delivery record", "key", key, "path", res.Rel, "error", err.Error())
	}
	at.rec, at.haveRec = rec, ok
	if ok && rec.Pending {
		at.pending = append(at.pending, rec)
	}
	if pend, ok := d.b.records.ReadPending(res.Rel); ok {
		at.pending, at.stale = append(at.pending, pend), true
	}
	fi, err := d.b.root.Lstat(res.Rel)
	switch {
	case err == nil && fi.IsDir():
		return at, exitcode.Errorf(exitcode.LocalIO, "target %s is a directory", res.Path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return at, rootErr(fmt.Errorf("inspect target: %w", err))
	case err == nil:
		at.fi = fi
	}
	res.New = at.fi == nil
	return at, nil
}

// dropStale removes a reservation a crashed delivery left, once what it
// said has been used (the caller holds the path's lock).
func (d *delivery) dropStale(at atPath, rel string) {
	if at.stale {
		d.b.records.DropPending(rel)
	}
}

// contestPath applies the one-owner rule against the key whose record
// holds the path; lost says this key does not get it (nothing changes).
func (d *delivery) contestPath(ctx context.Context, obj object, rec record.Record, res *Result) (bool, error) {
	win, why, err := d.contest(ctx, res.Rel, obj, rec)
	if err != nil {
		return false, err
	}
	res.Reason = why
	if !win {
		res.Lost = rec.Key
		d.o.Logger.Warn("conflict", "key", obj.key, "path", res.Rel, "owner", rec.Key, "reason", why)
		return true, nil
	}
	res.Displaced = rec.Key
	return false, nil
}

// checkContent decides what to do with a file that is not known untouched
// since edge-drop delivered it: bytes that equal the object are adopted
// (done); bytes edge-drop delivered (the record's, the one it replaced, or
// a crashed delivery's) are replaced; anything else is kept as a conflict
// copy beside the path (or, when no check can run on disk, compared after
// the download).
func (d *delivery) checkContent(ctx context.Context, obj object, at atPath, p *plan, res *Result, current bool) (bool, error) {
	res.Reverified = true
	got, err := checkPath(ctx, d.b.root, res.Rel, at.fi, obj.size, p.ver)
	switch {
	case err != nil:
		return false, err
	case got.verdict == Same && got.regular:
		return true, d.adopt(res, obj, p.ver, at.rec, current, got.id)
	}
	if prev, ok := d.delivered(ctx, res.Rel, at, p.ver); ok {
		p.previous = prev
		return false, nil
	}
	if got.verdict == Unknown && got.regular {
		p.compare = true
	} else {
		p.keep = true
	}
	return false, nil
}

// delivered reports whether the file at rel holds bytes edge-drop
// delivered there, so replacing it destroys nothing that is not in S3:
// the record's (its identity or checksum), the delivery it replaced, or
// a pending delivery's (a crash between its rename and its record). Each
// checksum is checked once; the object's own was checked already.
func (d *delivery) delivered(ctx context.Context, rel string, at atPath, objCheck verifier) (*record.Delivered, bool) {
	var cands []record.Delivered
	if at.haveRec && !at.rec.Pending {
		cands = append(cands, at.rec.Delivered())
	}
	if at.haveRec && at.rec.Previous != nil {
		cands = append(cands, *at.rec.Previous)
	}
	for _, pend := range at.pending {
		if pend.Staged.MatchesStaged(at.fi) {
			c := pend.Delivered()
			c.File = nil
			return &c, true
		}
		cands = append(cands, pend.Delivered())
		if pend.Previous != nil {
			cands = append(cands, *pend.Previous)
		}
	}
	tried := map[string]bool{objCheck.Name + ":" + objCheck.Expected: true}
	for _, c := range cands {
		if c.File.Matches(at.fi) {
			return &c, true
		}
		if c.Checksum == "" || tried[c.Checksum] {
			continue
		}
		tried[c.Checksum] = true
		got, err := checkPath(ctx, d.b.root, rel, at.fi, c.Size, recorded(c.Checksum, c.PartSize))
		if err == nil && got.verdict == Same {
			return &c, true
		}
	}
	return nil, false
}

// adopt records the file at the path, whose bytes were verified to be the
// object's, as this delivery: nothing is downloaded or moved.
func (d *delivery) adopt(res *Result, obj object, ver verifier, rec record.Record, current bool, id *record.Identity) error {
	nr := d.newRecord(obj, res.Rel, ver, ver.partSize)
	if current {
		// The key's own record (touched, or written before identities):
		// keep when and for which event it was delivered.
		nr.DeliveredAt = rec.DeliveredAt
		if c, ok := record.CompareSequencers(nr.Sequencer, rec.Sequencer); rec.Sequencer != "" && (!ok || c <= 0) {
			nr.Sequencer = rec.Sequencer
		}
	}
	nr.File = id
	if err := d.b.records.Write(nr); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "the file at %s holds this version, but its delivery record could not be written: %w", res.Rel, err)
	}
	res.UpToDate, res.Adopted, res.Verified = true, true, ver.Name
	d.noteConflict(res, current)
	d.o.Logger.Info("verified and adopted", "key", obj.key, "path", res.Rel, "verified", ver.Name,
		"reason", "the file at the path was not known untouched since its delivery; its content is this version")
	return nil
}

// contest decides which of two keys that map to one path owns it: the one
// whose object has the newer LastModified (as S3 has it now; a key whose
// object is gone loses), ties to the lexically larger key. The same rule
// from either side, so syncs of either prefix agree and do not flap.
func (d *delivery) contest(ctx context.Context, rel string, obj object, rec record.Record) (bool, string, error) {
	other, otherLM := rec.Key, rec.LastModified
	bucket := d.o.Bucket
	if rec.Bucket != "" {
		bucket = rec.Bucket
	}
	h, err := d.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &other})
	switch code := classify(ctx, err); {
	case err == nil:
		otherLM = aws.ToTime(h.LastModified)
	case ctx.Err() != nil:
		return false, "", exitcode.New(code, err)
	case code == exitcode.NotFound:
		return true, fmt.Sprintf("%s and %s both map to %s; %s holds it, %s is not delivered there (its object is gone)", obj.key, other, rel, obj.key, other), nil
	default:
		d.o.Logger.Warn("could not ask S3 about the key that holds the path; deciding by its recorded LastModified",
			"key", obj.key, "path", rel, "owner", other, "error", err.Error())
	}
	win := obj.lastMod.After(otherLM) || (obj.lastMod.Equal(otherLM) && obj.key > other)
	winner, loser, wlm, llm := obj.key, other, obj.lastMod, otherLM
	if !win {
		winner, loser, wlm, llm = other, obj.key, otherLM, obj.lastMod
	}
	rule := "newer LastModified"
	if wlm.Equal(llm) {
		rule = "same LastModified, larger key"
	}
	return win, fmt.Sprintf("%s and %s both map to %s; %s holds it, %s is not delivered there (%s: %s vs %s)", obj.key, other, rel,
		winner, loser, rule, wlm.UTC().Format(time.RFC3339), llm.UTC().Format(time.RFC3339)), nil
}

// superseded logs and reports whether the triggering event is no longer
// the newest news about the key: S3 holds another version than the event
// announced, or the board already delivered this version for a later event.
func (d *delivery) superseded(key, etag string, size int64, rec record.Record, ours bool) bool {
	ev := d.o.Event
	if ev.ETag != "" && unquote(ev.ETag) != unquote(etag) {
		d.o.Logger.Info("event superseded", "key", key, "reason", "a newer upload replaced the event's version; delivering the current one",
			"event_etag", ev.ETag, "event_sequencer", ev.Sequencer, "event_size", ev.Size, "current_etag", etag, "current_size", size)
		return true
	}
	if ours && rec.ETag == etag {
		if c, ok := record.CompareSequencers(rec.Sequencer, ev.Sequencer); ok && c > 0 {
			d.o.Logger.Info("event superseded", "key", key, "reason", "this version was already delivered for a later event",
				"event_sequencer", ev.Sequencer, "record_sequencer", rec.Sequencer, "current_etag", etag)
			return true
		}
	}
	return false
}

// eventSequencer is the event's sequencer when the event announced the
// version being delivered (else it belongs to another version).
func (d *delivery) eventSequencer(etag string) string {
	if ev := d.o.Event; ev.ETag != "" && unquote(ev.ETag) == unquote(etag) {
		return ev.Sequencer
	}
	return ""
}

// noteSequencer keeps the newest event sequencer of the delivered version
// in its record, so a late, older event is recognised as superseded.
func (d *delivery) noteSequencer(rec record.Record, etag string) {
	seq := d.eventSequencer(etag)
	if seq == "" {
		return
	}
	if rec.Sequencer != "" {
		if c, ok := record.CompareSequencers(seq, rec.Sequencer); !ok || c <= 0 {
			return
		}
	}
	rec.Sequencer = seq
	if err := d.b.records.Write(rec); err != nil {
		d.o.Logger.Warn("could not update the delivery record", "key", rec.Key, "error", err.Error())
	}
}

// noteConflict logs and words a delivery that kept a copy or took the path
// from another key.
func (d *delivery) noteConflict(res *Result, ours bool) {
	switch {
	case res.ConflictCopy != "":
		why := "the file at the path was changed since its delivery"
		if res.Displaced != "" {
			why = "the file at the path, delivered for " + res.Displaced + ", was changed since"
		} else if !ours {
			why = "the file at the path was not delivered by edge-drop"
		}
		res.Reason = strings.TrimPrefix(res.Reason+"; "+why+": kept as "+res.ConflictCopy, "; ")
		d.o.Logger.Warn("conflict", "key", res.Key, "path", res.Rel, "conflict_copy", res.ConflictCopy, "reason", res.Reason)
	case res.Displaced != "":
		d.o.Logger.Warn("conflict", "key", res.Key, "path", res.Rel, "displaced", res.Displaced, "reason", res.Reason)
	}
}

// newRecord is the delivery record of obj at rel, verified by ver.
func (d *delivery) newRecord(obj object, rel string, ver verifier, partSize int64) record.Record {
	nr := record.Record{Key: obj.key, Bucket: d.o.Bucket, ETag: obj.etag, VersionID: obj.versionID, Size: obj.size,
		LastModified: obj.lastMod.UTC(), Sequencer: d.eventSequencer(obj.etag), DeliveredAt: time.Now().UTC()}
	if rel != obj.key {
		nr.Path = rel
	}
	if ver.Name != "" {
		nr.Checksum = ver.Name + ":" + ver.Expected
		if ver.byParts {
			nr.PartSize = partSize
		}
	}
	return nr
}
