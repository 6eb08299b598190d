// gowatchmem: resident memory of Go's clientv3 (etcd 3.4.23, Debian's golang-etcd-server-dev) idle and with
// --watchers watchers open, the counterpart of `etcd-bench watch --memory`.
//
// One clientv3.Client (one gRPC connection), one get (connected, nothing open): VmRSS idle. Then --watchers
// goroutines each watch --prefix from the revision after that get, as gowatch's watchers do (WithRequireLeader,
// WithCreatedNotify); once every watcher has had its `created` response: VmRSS again. No put is made.
//
// Prints one RESULT line: rss_mb_idle, rss_mb_watchers and their difference per watcher in KiB. VmRSS is read
// as is (no forced GC); with --gc, runtime.GC and debug.FreeOSMemory run before each reading.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.uber.org/zap"
)

// vmRSS is the process' resident memory in bytes, from /proc/self/status.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				kb, _ := strconv.ParseInt(fields[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:23790", "etcd endpoint host:port")
	watchers := flag.Int("watchers", 1000, "watchers on the prefix")
	prefix := flag.String("prefix", "fanout/", "watched prefix")
	timeout := flag.Duration("timeout", 120*time.Second, "give up after")
	gc := flag.Bool("gc", false, "run runtime.GC and debug.FreeOSMemory before each reading")
	label := flag.String("label", "go-clientv3", "label in RESULT line")
	flag.Parse()

	lc := zap.NewProductionConfig()
	lc.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second, LogConfig: &lc})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	start, err := cli.Get(ctx, "gowatch-start")
	if err != nil {
		fmt.Fprintln(os.Stderr, "get:", err)
		os.Exit(1)
	}
	from := start.Header.Revision + 1
	read := func() int64 {
		if *gc {
			runtime.GC()
			debug.FreeOSMemory()
		}
		return vmRSS()
	}
	idle := read()

	var ready sync.WaitGroup
	ready.Add(*watchers)
	for w := 0; w < *watchers; w++ {
		go func() {
			wch := cli.Watch(clientv3.WithRequireLeader(ctx), *prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithCreatedNotify())
			first := true
			for range wch {
				if first {
					first = false
					ready.Done()
				}
			}
			if first {
				ready.Done()
			}
		}()
	}
	ready.Wait()
	open := read()
	fmt.Printf("RESULT tool=%s op=watch-memory watchers=%d rss_mb_idle=%.1f rss_mb_watchers=%.1f kb_per_watcher=%.1f\n",
		*label, *watchers, float64(idle)/1048576, float64(open)/1048576, float64(open-idle)/1024/float64(*watchers))
}
