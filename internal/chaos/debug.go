package chaos

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// debugStore wraps an instance's store when Config.Debug is on: whenever
// State or FreshState finds no session, it asks every data node directly
// what it holds for that session, and notes the answers, so that a finding
// of rule (d) can show which node had the session and which did not.
type debugStore struct {
	*redisstore.Store
	inst   int
	prefix string
	nodes  func() []string
	notes  *notes
}

var _ ginjwt.StateRefresher = (*debugStore)(nil)

// State implements ginjwt.Store.
func (d *debugStore) State(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	st, found, err := d.Store.State(ctx, subject, sessionID)
	d.inspect(ctx, "State", subject, sessionID, st, found, err)
	return st, found, err
}

// FreshState implements ginjwt.StateRefresher.
func (d *debugStore) FreshState(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	st, found, err := d.Store.FreshState(ctx, subject, sessionID)
	d.inspect(ctx, "FreshState", subject, sessionID, st, found, err)
	return st, found, err
}

// inspect notes what the store answered and, when it found no session,
// what every node holds for it.
func (d *debugStore) inspect(ctx context.Context, call, subject, sessionID string, st ginjwt.SessionState, found bool, err error) {
	switch {
	case err != nil:
		return
	case found:
		d.notes.add(d.inst, sessionID, fmt.Sprintf("instance %d %s found v=%d g=%d", d.inst, call, st.UserVersion, st.Generation))
		return
	}
	base := d.prefix + "{" + base64.RawURLEncoding.EncodeToString([]byte(subject)) + "}:"
	var parts []string
	for _, addr := range d.nodes() {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
		role, rerr := c.Do(ctx, "ROLE").Slice()
		v, verr := c.Get(ctx, base+"v").Result()
		g, gerr := c.HGet(ctx, base+"s:"+sessionID, "g").Result()
		_ = c.Close()
		r := "?"
		if rerr == nil && len(role) > 0 {
			r = fmt.Sprint(role[0])
		}
		parts = append(parts, fmt.Sprintf("%s(%s) v=%s g=%s", addr, r, debugValue(v, verr), debugValue(g, gerr)))
	}
	d.notes.add(d.inst, sessionID, fmt.Sprintf("instance %d %s found nothing; the nodes: %s", d.inst, call, strings.Join(parts, "; ")))
}

func debugValue(v string, err error) string {
	switch {
	case err == redis.Nil:
		return "nil"
	case err != nil:
		return "err:" + err.Error()
	}
	return v
}

// notes keeps the debug notes of a fleet, by session.
type notes struct {
	mu sync.Mutex
	m  map[string][]note
}

type note struct {
	at   time.Time
	inst int
	text string
}

func (n *notes) add(inst int, sessionID, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string][]note{}
	}
	if len(n.m[sessionID]) < 20 {
		n.m[sessionID] = append(n.m[sessionID], note{time.Now(), inst, text})
	}
}

// about returns the notes on a session's reads by inst between from and
// to.
func (n *notes) about(inst int, sessionID string, from, to, t0 time.Time) []string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.m[sessionID] {
		if x.inst == inst && !x.at.Before(from) && !x.at.After(to) {
			out = append(out, "debug "+rel(x.at, t0)+": "+x.text)
		}
	}
	return out
}
