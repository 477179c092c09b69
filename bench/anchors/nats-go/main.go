// Vendored from the team's shared bench kit (nats-go/main.go there); unchanged but for this line.

// nats-go-bench: NATS JetStream peer anchor with the native Go client
// (Debian golang-github-nats-io-go-nats-dev 1.22.1, GOPATH build, offline),
// to separate nats-server's limit from the nats.js client's.
//
//	nats-go-bench -port P -mode pub     -n 100000 -window 1|256
//	nats-go-bench -port P -mode consume -n 100000 -batch 256   (after pub)
//	nats-go-bench -port P -mode e2e     -n 50000 -rate 5000
//
// Same semantics as ../js/nats_bench.mjs: fresh file-storage stream BENCH
// (subject bench.e), 300-byte payloads, untimed warm-up first, durable pull
// consumer with explicit acks consumed as a stream of pull requests (see
// pullLoop), e2e = open-loop publisher at a fixed rate (actual send time in
// the payload) and the pull consumer on its own connection. 127.0.0.1 only; every loop is bounded by n and a deadline.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	stream  = "BENCH"
	subj    = "bench.e"
	durable = "bench-durable"
)

var (
	port     = flag.Int("port", 14222, "nats-server port on 127.0.0.1")
	mode     = flag.String("mode", "pub", "pub|consume|e2e")
	n        = flag.Int("n", 100000, "messages")
	size     = flag.Int("size", 300, "payload bytes")
	window   = flag.Int("window", 1, "publish acks in flight")
	batch    = flag.Int("batch", 256, "pull batch")
	rate     = flag.Int("rate", 5000, "e2e msgs/s")
	warmup   = flag.Int("warmup", 5000, "untimed warm-up messages")
	deadline = flag.Duration("deadline", 120*time.Second, "hard stop")
	noSub    = flag.Bool("nosub", false, "e2e: publish at the rate with no consumer running (isolates publish-ack latency)")
	base     = time.Now()
)

func die(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func conn() (*nats.Conn, nats.JetStreamContext) {
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", *port))
	die(err)
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(1 << 16))
	die(err)
	return nc, js
}

func freshStream(js nats.JetStreamContext) {
	_ = js.DeleteStream(stream)
	_, err := js.AddStream(&nats.StreamConfig{Name: stream, Subjects: []string{subj},
		Storage: nats.FileStorage, Retention: nats.LimitsPolicy, Replicas: 1})
	die(err)
}

func addDurable(js nats.JetStreamContext) {
	_ = js.DeleteConsumer(stream, durable)
	_, err := js.AddConsumer(stream, &nats.ConsumerConfig{Durable: durable,
		AckPolicy: nats.AckExplicitPolicy, DeliverPolicy: nats.DeliverAllPolicy, MaxAckPending: 20000})
	die(err)
}

// pullLoop is a streaming pull consumer (what nats.js consume() and the newer
// nats.go jetstream API do): keep `batch` messages requested from the durable
// (no expiry), top up by batch/2 when half has arrived, and hand each message
// to fn as soon as it arrives. nats.go 1.22's Fetch(batch) instead blocks until
// the whole batch is filled when the consumer is caught up, which would add up
// to batch/rate of latency, so it is not used. Stops when fn returns false or
// at the deadline.
func pullLoop(nc *nats.Conn, batch int, fn func(m *nats.Msg) bool) {
	inbox := nats.NewInbox()
	ch := make(chan *nats.Msg, 4*batch)
	sub, err := nc.ChanSubscribe(inbox, ch)
	die(err)
	defer sub.Unsubscribe()
	reqSubj := "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable
	pull := func(k int) { die(nc.PublishRequest(reqSubj, inbox, []byte(fmt.Sprintf(`{"batch":%d}`, k)))) }
	pull(batch)
	outstanding := batch
	stop := time.After(*deadline)
	for {
		select {
		case m := <-ch:
			if len(m.Data) == 0 && m.Header.Get("Status") != "" {
				continue // status message (none expected without expiry)
			}
			outstanding--
			if !fn(m) {
				return
			}
			if outstanding <= batch/2 {
				pull(batch / 2)
				outstanding += batch / 2
			}
		case <-stop:
			return
		}
	}
}

func summary(name string, v []float64) string {
	if len(v) == 0 {
		return name + "_none=1"
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	p := func(q float64) float64 {
		i := int(float64(len(s)) * q)
		if i >= len(s) {
			i = len(s) - 1
		}
		return s[i] / 1e3
	}
	return fmt.Sprintf("%s_p50_us=%.1f %s_p99_us=%.1f %s_p999_us=%.1f %s_max_us=%.1f",
		name, p(0.5), name, p(0.99), name, p(0.999), name, s[len(s)-1]/1e3)
}

// publish cnt messages keeping at most w acks in flight; lat (optional)
// gets per-message ack latency for w == 1.
func publish(js nats.JetStreamContext, cnt, w int, body []byte, lat []float64) {
	stop := time.Now().Add(*deadline)
	if w <= 1 {
		for i := 0; i < cnt; i++ {
			t := time.Now()
			_, err := js.Publish(subj, body)
			die(err)
			if lat != nil {
				lat[i] = float64(time.Since(t))
			}
			if time.Now().After(stop) {
				die(fmt.Errorf("deadline"))
			}
		}
		return
	}
	ring := make([]nats.PubAckFuture, w)
	sent := make([]time.Time, w)
	wait := func(k int) {
		f := ring[k%w]
		select {
		case <-f.Ok():
		case err := <-f.Err():
			die(err)
		case <-time.After(10 * time.Second):
			die(fmt.Errorf("ack timeout"))
		}
		if lat != nil {
			lat[k] = float64(time.Since(sent[k%w])) // upper bound: observed when the window needs the slot
		}
	}
	for i := 0; i < cnt; i++ {
		if i >= w {
			wait(i - w)
		}
		sent[i%w] = time.Now()
		f, err := js.PublishAsync(subj, body)
		die(err)
		ring[i%w] = f
		if time.Now().After(stop) {
			die(fmt.Errorf("deadline"))
		}
	}
	for k := cnt - w; k < cnt; k++ {
		if k >= 0 {
			wait(k)
		}
	}
}

func doPub() {
	nc, js := conn()
	defer nc.Close()
	freshStream(js)
	body := make([]byte, *size)
	if *warmup > 0 {
		publish(js, *warmup, *window, body, nil)
		die(js.PurgeStream(stream))
	}
	lat := make([]float64, *n)
	t0 := time.Now()
	publish(js, *n, *window, body, lat)
	secs := time.Since(t0).Seconds()
	si, err := js.StreamInfo(stream)
	die(err)
	ack := summary("ack", lat)
	if *window > 1 {
		ack = "" // per-message ack latency is not observable exactly with a window
	}
	fmt.Printf("natsgo_pub n=%d window=%d size=%d warmup=%d secs=%.3f msgs_s=%.0f stored=%d %s\n",
		*n, *window, *size, *warmup, secs, float64(*n)/secs, si.State.Msgs, ack)
}

func doConsume() {
	nc, js := conn()
	defer nc.Close()
	si, err := js.StreamInfo(stream)
	die(err)
	if si.State.Msgs < uint64(*n) {
		die(fmt.Errorf("stream has %d < %d msgs; run pub first", si.State.Msgs, *n))
	}
	addDurable(js)
	warm := *warmup
	if warm > *n/10 {
		warm = *n / 10
	}
	got := 0
	t0 := time.Now()
	pullLoop(nc, *batch, func(m *nats.Msg) bool {
		die(m.Ack())
		got++
		if got == warm {
			t0 = time.Now()
		}
		return got < *n
	})
	die(nc.Flush())
	ci, err := js.ConsumerInfo(stream, durable)
	die(err)
	for k := 0; k < 200 && ci.NumAckPending > 0; k++ {
		time.Sleep(5 * time.Millisecond)
		ci, err = js.ConsumerInfo(stream, durable)
		die(err)
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf("natsgo_consume n=%d batch=%d got=%d warmup=%d ack_pending_after=%d secs=%.3f msgs_s=%.0f\n",
		*n, *batch, got, warm, ci.NumAckPending, secs, float64(got-warm)/secs)
}

func doE2E() {
	nc, js := conn()
	defer nc.Close()
	freshStream(js)
	addDurable(js)
	total := *warmup + *n
	// consumer on its own connection
	cnc, cjs := conn()
	defer cnc.Close()
	_ = cjs
	e2e := make([]float64, 0, total)
	done := make(chan struct{})
	go func() {
		if *noSub {
			for len(e2e) < total {
				e2e = append(e2e, 0)
			}
			close(done)
			return
		}
		pullLoop(cnc, *batch, func(m *nats.Msg) bool {
			ts := time.Duration(binary.BigEndian.Uint64(m.Data[:8]))
			e2e = append(e2e, float64(time.Since(base)-ts))
			_ = m.Ack()
			return len(e2e) < total
		})
		_ = cnc.Flush()
		close(done)
	}()
	lag := make([]float64, total)
	type inflight struct {
		f  nats.PubAckFuture
		at time.Time
	}
	acks := make(chan inflight, total)
	pub := make([]float64, 0, total)
	ackDone := make(chan struct{})
	go func() { // acks come back in publish order on one connection
		for x := range acks {
			select {
			case <-x.f.Ok():
			case err := <-x.f.Err():
				die(err)
			case <-time.After(10 * time.Second):
				die(fmt.Errorf("ack timeout"))
			}
			pub = append(pub, float64(time.Since(x.at)))
		}
		close(ackDone)
	}()
	interval := time.Second / time.Duration(*rate)
	start := time.Now().Add(100 * time.Millisecond)
	for i := 0; i < total; i++ {
		target := start.Add(time.Duration(i) * interval)
		if d := time.Until(target); d > 0 {
			time.Sleep(d)
		}
		now := time.Now()
		lag[i] = float64(now.Sub(target))
		body := make([]byte, *size)
		binary.BigEndian.PutUint64(body, uint64(now.Sub(base)))
		f, err := js.PublishAsync(subj, body)
		die(err)
		acks <- inflight{f, now}
	}
	close(acks)
	<-ackDone
	<-done
	e2eStr := "nosub=1"
	if !*noSub {
		e2eStr = summary("e2e", e2e[*warmup:])
	}
	got := len(e2e) - *warmup
	if got < 0 {
		got = 0
	}
	fmt.Printf("natsgo_e2e n=%d rate=%d warmup=%d got=%d %s %s %s\n", *n, *rate, *warmup, got,
		summary("pub", pub[*warmup:]), e2eStr, summary("schedlag", lag[*warmup:]))
}

func main() {
	flag.Parse()
	switch *mode {
	case "pub":
		doPub()
	case "consume":
		doConsume()
	case "e2e":
		doE2E()
	default:
		die(fmt.Errorf("mode: pub|consume|e2e"))
	}
}
