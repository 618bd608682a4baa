package authn_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/authn"
)

// The cost of one password hash and check with the production parameters:
// this is what every login pays (see DefaultArgon2).
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := authn.HashPassword("correct horse battery", authn.DefaultArgon2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h, err := authn.HashPassword("correct horse battery", authn.DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := authn.CheckPassword(h, "correct horse battery"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkLogin is a whole successful login: throttle check in Redis, user
// lookup, argon2id check with DefaultArgon2, token signing and the refresh
// token row.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	e.svc.Argon2 = authn.DefaultArgon2
	ctx := context.Background()
	u := &authn.User{Username: "bench", DisplayName: "Bench"}
	if err := authn.CreateUser(ctx, e.db, u, "bench password", authn.DefaultArgon2); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, _, err := e.svc.Login(ctx, "bench", "bench password", fmt.Sprintf("10.1.%d.%d", i/250, i%250)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is the request path's authentication of a token
// already verified once (the token cache and the user cache), with a
// thousand other sessions signed out: the revocation check is a map
// lookup in the process's copy.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	tok := e.login(b, "alice", alicePassword)
	for range 1000 {
		e.svc.Revoked.Revoke(ctx, fmt.Sprintf("signed-out-%d", time.Now().UnixNano()), time.Now())
	}
	if _, err := e.svc.Authenticate(ctx, tok.AccessToken); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.svc.Authenticate(ctx, tok.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
