package ginjwt_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// failoverLimit bounds how long the cluster may take to promote a replica
// and the app to find it: the node timeout is 1 s, the election about as
// much again.
const failoverLimit = 30 * time.Second

// TestClusterFailover kills the master that owns a user's hash slot while
// that user's requests run. During the switch requests may answer 503;
// never 500, and a revoked token is never accepted. Once the replica has
// taken over, the same tokens work again, and so do refresh, login, logout
// and RevokeUser.
//
// The test starts its own cluster (3 masters, 3 replicas): killing a master
// of the shared cluster at REDIS_CLUSTER_ADDRS would fail the tests that
// other packages run against it at the same time, and leave it without a
// replica for the next run. Before the kill it waits until the replica has
// every write: Redis replicates asynchronously, so a revocation the master
// acknowledged but had not yet sent would be lost in the failover (see the
// failure modes in docs/operations.md), which is not what this test is about.
func TestClusterFailover(t *testing.T) {
	redistest.SkipUnlessCluster(t)
	cl := redistest.StartCluster(t, 3, true)
	// The background traffic refreshes a logged-out session in a loop: the
	// per-session refresh limit would answer 429 where this test looks for
	// the revocation.
	a := newAppAt(t, cl.Backend(), faultPrefix, func(o *ginjwt.Options) { o.Limits.Off = true })

	live1, live2 := a.login("alice"), a.login("alice")
	rotated := a.login("alice")
	current := a.refresh(rotated.RefreshToken).tokens(t)
	loggedOut := a.login("alice")
	expect(t, "logout", a.logoutWithRefresh(loggedOut.RefreshToken), http.StatusNoContent, "")
	bob := a.login("bob")

	// The master of alice's slot, found from the key of one of her sessions.
	keys, err := redistest.Keys(ctx(t), a.client, faultPrefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	var sessionKey string
	for _, k := range keys {
		if strings.HasSuffix(k, ":s:"+sessionID(t, live1.AccessToken)) {
			sessionKey = k
		}
	}
	if sessionKey == "" {
		t.Fatalf("no key for alice's session among %q", keys)
	}
	seed := redis.NewClient(&redis.Options{Addr: cl.Masters[0].Addr()})
	defer seed.Close()
	masterAddr, err := redistest.MasterOf(ctx(t), seed, sessionKey)
	if err != nil {
		t.Fatal(err)
	}
	master := cl.Node(masterAddr)
	if master == nil {
		t.Fatalf("alice's slot is on %s, not a node of the test's cluster", masterAddr)
	}
	mc := master.Client()
	waitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := redistest.WaitReplicated(waitCtx, mc); err != nil {
		t.Fatalf("replica of %s did not catch up: %v", masterAddr, err)
	}

	// Background traffic: alice's live tokens, her revoked ones, and bob.
	liveTokens := []string{live1.AccessToken, live2.AccessToken, current.AccessToken}
	tr := startTraffic(6, func(i int) outcome {
		switch i % 3 {
		case 0:
			return a.hitMe("live", liveTokens[time.Now().Nanosecond()%len(liveTokens)])
		case 1:
			switch time.Now().Nanosecond() % 3 {
			case 0:
				return a.hitMe("revoked", rotated.AccessToken)
			case 1:
				return a.hitMe("revoked", loggedOut.AccessToken)
			default:
				return a.hitRefresh("revoked refresh", loggedOut.RefreshToken)
			}
		default:
			return a.hitMe("bob", bob.AccessToken)
		}
	})
	time.Sleep(300 * time.Millisecond)

	master.Kill()
	killed := time.Now()
	took := expectOKWithin(t, failoverLimit, func() outcome { return a.hitMe("live, during the failover", live1.AccessToken) })
	time.Sleep(500 * time.Millisecond)
	seen := tr.Stop()

	counts := map[string]map[int]int{}
	for _, o := range seen {
		if counts[o.what] == nil {
			counts[o.what] = map[int]int{}
		}
		counts[o.what][o.status]++
		unavailable := o.err == nil && o.status == http.StatusServiceUnavailable && o.code == "store_unavailable"
		switch {
		case o.err != nil:
			t.Errorf("%v", o)
		case o.what == "revoked":
			if !unavailable && (o.status != http.StatusUnauthorized || o.code != "token_revoked") {
				t.Errorf("revoked token: %v; want 401 token_revoked or 503 store_unavailable", o)
			}
		case o.what == "revoked refresh":
			if !unavailable && (o.status != http.StatusBadRequest || o.code != "token_revoked") {
				t.Errorf("revoked refresh token: %v; want 400 (invalid_grant) token_revoked or 503 store_unavailable", o)
			}
		case !unavailable && o.status != http.StatusOK:
			t.Errorf("%s token: %v; want 200 or 503 store_unavailable", o.what, o)
		}
	}
	t.Logf("failover: first success %v after the kill of %s; background responses by status: %v", took, masterAddr, counts)
	if counts["live"][http.StatusOK] == 0 || counts["revoked"][http.StatusUnauthorized] == 0 {
		t.Errorf("background traffic saw too little: %v", counts)
	}

	// A replica now owns alice's slot.
	survivor := redis.NewClient(&redis.Options{Addr: cl.Masters[(indexOf(cl.Masters, master)+1)%len(cl.Masters)].Addr()})
	defer survivor.Close()
	newMaster, err := redistest.MasterOf(ctx(t), survivor, sessionKey)
	if err != nil {
		t.Fatal(err)
	}
	if newMaster == masterAddr || cl.Node(newMaster) == nil {
		t.Fatalf("after the failover alice's slot is on %s; want a replica of the killed %s", newMaster, masterAddr)
	}
	t.Logf("alice's slot moved from %s to %s %v after the kill", masterAddr, newMaster, time.Since(killed).Round(time.Millisecond))

	// The same tokens, as they were before the kill.
	for _, tok := range liveTokens {
		expect(t, "live token after the failover", a.me(tok), http.StatusOK, "")
	}
	expect(t, "bob after the failover", a.me(bob.AccessToken), http.StatusOK, "")
	expect(t, "rotated-away token after the failover", a.me(rotated.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "logged-out token after the failover", a.me(loggedOut.AccessToken), http.StatusUnauthorized, "token_revoked")
	expectGrant(t, "logged-out refresh token after the failover", a.refresh(loggedOut.RefreshToken), "token_revoked")

	// And everything writes on the new master.
	next := a.refresh(live1.RefreshToken).tokens(t)
	expect(t, "refreshed on the new master", a.me(next.AccessToken), http.StatusOK, "")
	expect(t, "rotated away on the new master", a.me(live1.AccessToken), http.StatusUnauthorized, "token_revoked")
	fresh := a.login("alice")
	expect(t, "login on the new master", a.me(fresh.AccessToken), http.StatusOK, "")
	expect(t, "logout on the new master", a.logoutWithAccess(live2.AccessToken), http.StatusNoContent, "")
	expect(t, "logged out on the new master", a.me(live2.AccessToken), http.StatusUnauthorized, "token_revoked")
	if err := a.auth.RevokeUser(ctx(t), "alice"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{next.AccessToken, fresh.AccessToken, current.AccessToken} {
		expect(t, "after RevokeUser on the new master", a.me(tok), http.StatusUnauthorized, "token_revoked")
	}
	expect(t, "bob after alice's RevokeUser", a.me(bob.AccessToken), http.StatusOK, "")
}

func indexOf(servers []*redistest.Server, s *redistest.Server) int {
	for i, x := range servers {
		if x == s {
			return i
		}
	}
	return -1
}
