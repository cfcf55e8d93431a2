package chaos_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/internal/chaos"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func init() {
	gin.SetMode(gin.ReleaseMode)
	// go-redis logs every failed dial; under injected faults that is
	// thousands of lines that say nothing the history does not.
	redis.SetLogger(quiet{})
}

// quiet is a go-redis logger that drops everything.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// defaultDuration is how long faults are injected per topology unless
// CHAOS_DURATION says otherwise.
const defaultDuration = 20 * time.Second

// config reads CHAOS_DURATION (a Go duration, per topology), CHAOS_SEED
// (default: the time, logged so that a run can be repeated as far as Go's
// scheduling allows), CHAOS_FAULTS (a comma-separated list of fault kinds
// to inject, default all), CHAOS_HISTORY_DIR (a directory for the whole
// histories, default none) and CHAOS_DEBUG (when set, see Config.Debug).
func config(t *testing.T) chaos.Config {
	cfg := chaos.Config{Duration: defaultDuration, Seed: uint64(time.Now().UnixNano()), Clients: 8, Users: 20, Instances: 4}
	if v := os.Getenv("CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("CHAOS_DURATION=%q: want a positive Go duration such as 20s or 2h", v)
		}
		cfg.Duration = d
	}
	if v := os.Getenv("CHAOS_FAULTS"); v != "" {
		cfg.Faults = strings.Split(v, ",")
	}
	cfg.HistoryDir = os.Getenv("CHAOS_HISTORY_DIR")
	cfg.Debug = os.Getenv("CHAOS_DEBUG") != ""
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: want an unsigned integer", v)
		}
		cfg.Seed = seed
	}
	return cfg
}

// TestChaos drives two fleets of app instances (replica acks on and off,
// with and without the near-cache) through random faults on a Sentinel
// group and on a Redis Cluster that it starts, and fails on any violation
// of the rules in the package comment. It runs when a real Redis is asked
// for (REDIS_ADDR or REDIS_CLUSTER_ADDRS, as in .ci/run) and then fails if
// redis-server cannot be started.
func TestChaos(t *testing.T) {
	redistest.SkipUnlessReal(t)
	cfg := config(t)
	topologies := []struct {
		name  string
		start func(testing.TB) *chaos.Topology
	}{
		{"sentinel", chaos.StartSentinelTopology},
		{"cluster", chaos.StartClusterTopology},
	}
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			report := chaos.Run(t, tp.start(t), cfg)
			t.Logf("\n%s", report.Summary())
			if n := report.Violations(); n > 0 {
				t.Errorf("%d violations on %s (seed %d); see the summary above", n, tp.name, cfg.Seed)
			}
		})
	}
}
