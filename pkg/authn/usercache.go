package authn

import (
	"sync"
	"time"
)

// userCache keeps the users that signed requests name, for a few seconds:
// every API request is authenticated, and reading the same user row for
// each of a grid worker's taps is most of what authentication costs. A
// change to a user (disabled, renamed) therefore reaches a replica within
// userTTL; the access token itself lives far longer.
type userCache struct {
	mu    sync.Mutex
	users map[string]cachedUser
}

type cachedUser struct {
	u  User
	at time.Time
}

const (
	userTTL       = 5 * time.Second
	maxCacheUsers = 10_000
)

func (c *userCache) get(id string, now time.Time) (*User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[id]
	if !ok || now.Sub(e.at) > userTTL || now.Before(e.at) {
		return nil, false
	}
	u := e.u // a copy: callers may not change the cached one
	return &u, true
}

func (c *userCache) put(u *User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil || len(c.users) >= maxCacheUsers {
		c.users = make(map[string]cachedUser) // cheap to refill; bounded memory
	}
	c.users[u.ID] = cachedUser{u: *u, at: now}
}

// forget drops a user this process changed, so its own next request sees
// the change at once.
func (c *userCache) forget(id string) {
	c.mu.Lock()
	delete(c.users, id)
	c.mu.Unlock()
}
