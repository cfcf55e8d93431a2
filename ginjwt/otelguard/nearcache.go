package otelguard

import (
	"context"

	"github.com/jwtguard/jwtguard/redisstore"
	"go.opentelemetry.io/otel/metric"
)

// NearCacheSource is what ObserveNearCache reads: *redisstore.Store.
type NearCacheSource interface {
	NearCacheStats() redisstore.NearCacheStats
}

// ObserveNearCache reports the counters of a redisstore near-cache (see
// redisstore.WithNearCache) as observable instruments, read at each
// collection: jwtguard.nearcache.hits, .misses, .bypasses,
// .invalidations and .flushes (counters), .entries and .healthy (gauges;
// healthy is 1 while the invalidation subscription is up, 0 while it is
// down, and nothing when the store has no near-cache). They carry no
// attributes. Call it once per store; the returned function stops the
// reporting. A nil Instruments does nothing.
func (in *Instruments) ObserveNearCache(src NearCacheSource) (stop func() error, err error) {
	if in == nil || src == nil {
		return func() error { return nil }, nil
	}
	counter := func(name, desc string) (metric.Int64ObservableCounter, error) {
		return in.meter.Int64ObservableCounter(name, metric.WithUnit("{call}"), metric.WithDescription(desc))
	}
	hits, err := counter(MetricNearCacheHits, "Guard state reads answered from the near-cache.")
	if err != nil {
		return nil, err
	}
	misses, err := counter(MetricNearCacheMisses, "Guard state reads that missed the near-cache and read Redis.")
	if err != nil {
		return nil, err
	}
	bypasses, err := counter(MetricNearCacheBypasses, "Guard state reads that bypassed the near-cache because its invalidation subscription was down.")
	if err != nil {
		return nil, err
	}
	invalidations, err := in.meter.Int64ObservableCounter(MetricNearCacheInvalidations, metric.WithUnit("{message}"),
		metric.WithDescription("Invalidation messages the near-cache received."))
	if err != nil {
		return nil, err
	}
	flushes, err := in.meter.Int64ObservableCounter(MetricNearCacheFlushes, metric.WithUnit("{flush}"),
		metric.WithDescription("Whole near-cache flushes: subscription up or down, lost Redis state, unreadable message."))
	if err != nil {
		return nil, err
	}
	entries, err := in.meter.Int64ObservableGauge(MetricNearCacheEntries, metric.WithUnit("{session}"),
		metric.WithDescription("Sessions held in the near-cache."))
	if err != nil {
		return nil, err
	}
	healthy, err := in.meter.Int64ObservableGauge(MetricNearCacheHealthy, metric.WithUnit("{subscription}"),
		metric.WithDescription("1 while the near-cache's invalidation subscription is up and the cache in use, else 0."))
	if err != nil {
		return nil, err
	}
	reg, err := in.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := src.NearCacheStats()
		if !s.Enabled {
			return nil
		}
		o.ObserveInt64(hits, int64(s.Hits))
		o.ObserveInt64(misses, int64(s.Misses))
		o.ObserveInt64(bypasses, int64(s.Bypasses))
		o.ObserveInt64(invalidations, int64(s.Invalidations))
		o.ObserveInt64(flushes, int64(s.Flushes))
		o.ObserveInt64(entries, int64(s.Entries))
		var up int64
		if s.Healthy {
			up = 1
		}
		o.ObserveInt64(healthy, up)
		return nil
	}, hits, misses, bypasses, invalidations, flushes, entries, healthy)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
