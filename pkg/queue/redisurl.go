package queue

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The three forms WANJIA_REDIS_URL takes, as go-redis parses them:
//
//   - one node:  redis://[user:pass@]host:6379/0
//   - a cluster: redis://[user:pass@]node1:6379?addr=node2:6379&addr=node3:6379
//     (the seed nodes; the client learns the rest from the cluster)
//   - Sentinel:  redis://[user:pass@]sentinel1:26379/0?master_name=mymaster&addr=sentinel2:26379
//     (the userinfo is the sentinels'; the master's goes in password=)
//
// A URL with master_name is the Sentinel form, one with addr= and no
// master_name the cluster form, anything else one node.
const (
	RedisSingle   = "single"
	RedisCluster  = "cluster"
	RedisSentinel = "sentinel"
)

// clusterOnly are the parameters only a cluster client takes: beside
// master_name they mean the URL mixes the two forms.
var clusterOnly = []string{"max_redirects", "read_only"}

// RedisTarget is a parsed WANJIA_REDIS_URL: which form, and the options
// go-redis builds the client from.
type RedisTarget struct {
	Kind     string
	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

// ParseRedisURL reads one of the three forms, refusing what would connect
// to something else than the operator meant: a database number on a
// cluster (a cluster has only database 0, so tests' and deployments'
// separation by number would silently be lost), and the cluster and
// Sentinel forms at once.
func ParseRedisURL(raw string) (*RedisTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("scheme %q is not redis or rediss", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("no host")
	}
	q := u.Query()
	t := &RedisTarget{}
	switch {
	case q.Has("master_name"):
		for _, k := range clusterOnly {
			if q.Has(k) {
				return nil, fmt.Errorf("the cluster and Sentinel forms at once (master_name with %s): use one", k)
			}
		}
		if q.Get("master_name") == "" {
			return nil, errors.New("master_name is empty")
		}
		t.Kind = RedisSentinel
		t.failover, err = redis.ParseFailoverURL(raw)
	case q.Has("addr"):
		if p := strings.Trim(u.Path, "/"); p != "" || q.Has("db") {
			return nil, errors.New("a cluster URL (several addr=) cannot name a database: a cluster has only database 0; remove the number")
		}
		t.Kind = RedisCluster
		t.cluster, err = redis.ParseClusterURL(raw)
	default:
		t.Kind = RedisSingle
		t.single, err = redis.ParseURL(raw)
	}
	if err != nil {
		// go-redis's message, which never repeats the password.
		return nil, fmt.Errorf("%s form: %s", t.Kind, strings.TrimPrefix(err.Error(), "redis: "))
	}
	return t, nil
}

// Where says which Redis this is, without secrets.
func (t *RedisTarget) Where() string {
	switch t.Kind {
	case RedisCluster:
		return "cluster " + strings.Join(t.cluster.Addrs, ",")
	case RedisSentinel:
		return fmt.Sprintf("sentinel master %s via %s, db %d", t.failover.MasterName, strings.Join(t.failover.SentinelAddrs, ","), t.failover.DB)
	default:
		return fmt.Sprintf("%s/%d", t.single.Addr, t.single.DB)
	}
}

// Redis' timeouts unless the URL sets them: short, so that /readyz and API
// calls notice an outage quickly instead of hanging; go-redis redials by
// itself when Redis is back.
const (
	dialTimeout  = 2 * time.Second
	readTimeout  = 3 * time.Second
	writeTimeout = 3 * time.Second
)

func orDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// NewClient returns the client of t's form: every user of Redis takes it
// as a redis.UniversalClient.
func (t *RedisTarget) NewClient() redis.UniversalClient {
	switch t.Kind {
	case RedisCluster:
		o := *t.cluster
		orDefault(&o.DialTimeout, dialTimeout)
		orDefault(&o.ReadTimeout, readTimeout)
		orDefault(&o.WriteTimeout, writeTimeout)
		return redis.NewClusterClient(&o)
	case RedisSentinel:
		o := *t.failover
		orDefault(&o.DialTimeout, dialTimeout)
		orDefault(&o.ReadTimeout, readTimeout)
		orDefault(&o.WriteTimeout, writeTimeout)
		return redis.NewFailoverClient(&o)
	default:
		o := *t.single
		orDefault(&o.DialTimeout, dialTimeout)
		orDefault(&o.ReadTimeout, readTimeout)
		orDefault(&o.WriteTimeout, writeTimeout)
		return redis.NewClient(&o)
	}
}
