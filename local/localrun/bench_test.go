package localrun

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/local/statemachine"
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
			if r.Execution.Status != statemachine.StatusSucceeded {
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
			if r := <-h.p.Results(); r.Execution.Status != statemachine.StatusSucceeded {
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
