package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// BenchmarkUploadToFile measures the local pipeline end to end: from the
// S3 server acknowledging an upload to the task having renamed the file
// into place (the execution ends after the task process exits, which is
// after its rename and fsync). Run with -benchtime 1x: each iteration is
// 200 sequential uploads (latency) and a 200-upload burst (throughput).
func BenchmarkUploadToFile(b *testing.B) {
	const n = 200
	for range b.N {
		h := start(b, defaultAsm, Options{ObjectDir: b.TempDir(), TaskSlots: 4})
		body := []byte("small object for the latency run\n")

		lat := make([]time.Duration, 0, n)
		for i := range n {
			h.put(fmt.Sprintf("demo-lat/%03d.txt", i), body)
			acked := time.Now()
			r := <-h.p.Results()
			if r.Execution.Status != asl.StatusSucceeded {
				b.Fatalf("%s: %s %s", r.Event.Key, r.Execution.Status, r.Execution.Cause)
			}
			lat = append(lat, r.Execution.StopTime.Sub(acked))
		}
		slices.Sort(lat)

		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				h.put(fmt.Sprintf("demo-burst/%03d.txt", i), body)
			}()
		}
		for range n {
			if r := <-h.p.Results(); r.Execution.Status != asl.StatusSucceeded {
				b.Fatalf("%s: %s", r.Event.Key, r.Execution.Status)
			}
		}
		elapsed := time.Since(start)
		wg.Wait()

		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(lat[n/2]), "p50-ms")
		b.ReportMetric(ms(lat[n*99/100]), "p99-ms")
		b.ReportMetric(ms(lat[n-1]), "max-ms")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "burst-files/s")
		b.Logf("upload acknowledged -> file in place, %d sequential small uploads: p50 %.1f ms, p99 %.1f ms, max %.1f ms; burst of %d with 4 task slots: %.1f files/s",
			n, ms(lat[n/2]), ms(lat[n*99/100]), ms(lat[n-1]), n, float64(n)/elapsed.Seconds())
	}
}

// BenchmarkSoakOneKey is issue 8's soak: rounds of concurrent PUTs of one
// key with random sizes, so deliveries of that key overlap, finish in any
// order and see the object replaced mid-download. After each round the
// board's file must equal S3's final bytes and no execution may fail. Run
// with -benchtime 1x; it prints a table of the rounds.
func BenchmarkSoakOneKey(b *testing.B) {
	const (
		rounds  = 20
		puts    = 20
		maxSize = 2 << 20
		key     = "demo-soak.txt"
	)
	for range b.N {
		var logMu sync.Mutex
		counts := map[string]int{}
		onLog := func(_, line string) {
			var m struct {
				Msg      string `json:"msg"`
				Restarts int    `json:"restarts"`
				Error    string `json:"error"`
			}
			if json.Unmarshal([]byte(line), &m) != nil {
				return
			}
			logMu.Lock()
			defer logMu.Unlock()
			counts[m.Msg]++
			counts["restarts"] += m.Restarts
			if m.Msg == "download failed" {
				b.Logf("task failed: %s", m.Error)
			}
		}
		h := start(b, defaultAsm, Options{ObjectDir: b.TempDir(), TaskSlots: 4, OnTaskLog: onLog})
		rng := mathrand.New(mathrand.NewPCG(8, 20))
		var table strings.Builder
		fmt.Fprintf(&table, "\nBenchmarkSoakOneKey\n| round | PUTs | SUCCEEDED | FAILED | final size B | board = S3 | seconds |\n|---:|---:|---:|---:|---:|---|---:|\n")
		var failed, mismatched int
		var total time.Duration
		for round := 1; round <= rounds; round++ {
			start := time.Now()
			var wg sync.WaitGroup
			for range puts {
				body := randomBytes(rng.IntN(maxSize + 1))
				wg.Go(func() { h.put(key, body) })
			}
			wg.Wait()
			succeeded, roundFailed := 0, 0
			for range puts {
				select {
				case r := <-h.p.Results():
					if r.Execution.Status == asl.StatusSucceeded {
						succeeded++
					} else {
						roundFailed++
						b.Logf("round %d: execution %s (the task's cause is logged above)", round, r.Execution.Status)
					}
				case <-time.After(3 * time.Minute):
					b.Fatalf("round %d: executions did not finish", round)
				}
			}
			elapsed := time.Since(start)
			total += elapsed
			out, err := h.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &h.bucket, Key: aws.String(key)})
			if err != nil {
				b.Fatal(err)
			}
			want, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(h.data, key))
			match := err == nil && bytes.Equal(got, want)
			if !match {
				mismatched++
			}
			failed += roundFailed
			fmt.Fprintf(&table, "| %d | %d | %d | %d | %d | %v | %.2f |\n", round, puts, succeeded, roundFailed, len(want), match, elapsed.Seconds())
		}
		b.ReportMetric(float64(failed), "failed-executions")
		b.ReportMetric(float64(mismatched), "stale-rounds")
		b.ReportMetric(total.Seconds()/rounds, "s/round")
		fmt.Print(table.String()) // b.Log truncates a benchmark's output after 10 lines
		b.Logf("task log lines: %d download complete, %d already up to date, %d event superseded, %d waited for the key's lock, %d restarts on a changed object, %d download failed",
			counts["download complete"], counts["already up to date"], counts["event superseded"], counts["waiting for another delivery of this key"], counts["restarts"], counts["download failed"])
		if failed > 0 || mismatched > 0 {
			b.Fatalf("%d executions FAILED, %d of %d rounds ended with a board file other than S3's final bytes", failed, mismatched, rounds)
		}
	}
}

// BenchmarkFleetBurst is issue 11's burst: 200 uploads at once with
// deliverTo=all over three boards (4 task slots each), so 600 files. Each
// execution ends when the last board's task has stopped (after its rename
// and fsync), so upload acknowledged -> execution end is the time to the
// file on the last board. Every file must be on every board, intact, and
// no temp file may be left. Run with -benchtime 1x; it prints a table.
func BenchmarkFleetBurst(b *testing.B) {
	const (
		n    = 200
		size = 64 << 10
	)
	boards := []string{"a", "b", "c"}
	asm := synthFleet(b, map[string]string{"deliverTo": "all"})
	for range b.N {
		h := start(b, asm, Options{ObjectDir: b.TempDir(), TaskSlots: 4, Boards: threeBoards})
		bodies := make([][]byte, n)
		for i := range bodies {
			bodies[i] = randomBytes(size)
		}
		var mu sync.Mutex
		acked := map[string]time.Time{}
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			key := fmt.Sprintf("demo-fleet/%03d.txt", i)
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				h.put(key, bodies[i])
				mu.Lock()
				acked[key] = time.Now()
				mu.Unlock()
			})
		}
		var lat []time.Duration
		failed := 0
		for range n {
			select {
			case r := <-h.p.Results():
				if r.Execution.Status != asl.StatusSucceeded {
					failed++
					b.Logf("%s: %s %s %s", r.Event.Key, r.Execution.Status, r.Execution.Error, r.Execution.Cause)
					continue
				}
				mu.Lock()
				lat = append(lat, r.Execution.StopTime.Sub(acked[r.Event.Key]))
				mu.Unlock()
			case <-time.After(5 * time.Minute):
				b.Fatalf("executions did not finish")
			}
		}
		elapsed := time.Since(start)
		wg.Wait()
		slices.Sort(lat)

		var intact, lost, partial, temps int
		for _, board := range boards {
			for i := range n {
				got, err := os.ReadFile(filepath.Join(h.data, board, fmt.Sprintf("demo-fleet/%03d.txt", i)))
				switch {
				case err != nil:
					lost++
				case !bytes.Equal(got, bodies[i]):
					partial++
				default:
					intact++
				}
			}
			tmp, _ := os.ReadDir(filepath.Join(h.data, board, contract.StateDirName, "tmp"))
			temps += len(tmp)
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		p := func(q int) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, len(lat)*q/100)]
		}
		b.ReportMetric(float64(intact)/elapsed.Seconds(), "files/s")
		b.ReportMetric(ms(p(50)), "p50-ms")
		b.ReportMetric(ms(p(99)), "p99-ms")
		fmt.Printf("\nBenchmarkFleetBurst: %d uploads of %d KiB, deliverTo=all, 3 boards x 4 task slots\n", n, size>>10)
		fmt.Printf("| uploads | boards | files expected | intact | lost | partial | temp files left | failed executions | seconds | files/s | p50 upload->last board ms | p99 ms | max ms |\n")
		fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		fmt.Printf("| %d | %d | %d | %d | %d | %d | %d | %d | %.2f | %.1f | %.0f | %.0f | %.0f |\n", n, len(boards), n*len(boards),
			intact, lost, partial, temps, failed, elapsed.Seconds(), float64(intact)/elapsed.Seconds(), ms(p(50)), ms(p(99)), ms(p(100)))
		if failed > 0 || lost > 0 || partial > 0 || temps > 0 {
			b.Fatalf("%d failed executions, %d files lost, %d partial, %d temp files left", failed, lost, partial, temps)
		}
	}
}
