package isolation_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// statements counts the statements bun runs.
type statements struct {
	n  atomic.Int64
	mu sync.Mutex
	by map[string]time.Duration
}

func (s *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (s *statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.n.Add(1)
	if os.Getenv("BENCH_PROFILE") != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.by == nil {
			s.by = map[string]time.Duration{}
		}
		s.by[e.Query[:min(60, len(e.Query))]] += time.Since(e.StartTime)
	}
}

// BenchmarkSweepReminders50k: the morning sweep over 50,000 active cases
// in 100 communities (500 each, none checked in), with outreach's Notify
// writing the outbox on the database: goal under 10 s, with a handful of
// statements per community whatever its number of cases. Reported:
// ms per sweep, CPU ms per sweep (this process and its PostgreSQL
// backends), reminders written, statements per community.
//
//	WANJIA_TEST_DATABASE_URL=… go test -run '^$' -bench SweepReminders50k -benchtime 1x ./pkg/isolation/
func BenchmarkSweepReminders50k(b *testing.B) {
	const communities, perCommunity = 100, 500
	db, svc, count := sweepWorld(b, communities, perCommunity)
	benchSweeps(b, db, svc, count, communities*perCommunity)
}

// sweepWorld is communities of perCommunity active cases each, none checked
// in on 2020-02-04, and the isolation service at 09:00 that day.
// Its statements are counted.
func sweepWorld(b *testing.B, communities, perCommunity int) (*store.DB, *isolation.Service, *statements) {
	db := storetest.New(b)
	if db.Flavor() != store.Postgres {
		b.Skip("PostgreSQL only (set WANJIA_TEST_DATABASE_URL)")
	}
	ctx := context.Background()
	specs := make([]orgstest.Spec, communities)
	for i := range specs {
		specs[i] = orgstest.Spec{Slug: fmt.Sprintf("b%03d", i), Grids: []string{fmt.Sprintf("b%03d-g1", i)}}
	}
	orgstest.New(b, db, specs...)
	box, err := seal.New([]byte(strings.Repeat("k", 32)), "bench links")
	if err != nil {
		b.Fatal(err)
	}
	err = db.AcrossTenants(ctx, "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		for _, q := range []string{
			`INSERT INTO households (id, tenant_id, grid_id, address, address_key, tags, created_at, updated_at)
			 SELECT g.id || '-h' || i, g.tenant_id, g.id, '育才路 ' || i || ' 号', 'k' || i, '[]', now(), now()
			 FROM grids g, generate_series(1, ?) i`,
			`INSERT INTO residents (id, tenant_id, household_id, grid_id, name, phone, tags, created_at, updated_at)
			 SELECT h.id || '-r', h.tenant_id, h.id, h.grid_id, '居民', '171' || lpad((row_number() OVER ())::text, 8, '0'), '[]', now(), now()
			 FROM households h`,
		} {
			if _, err := tx.NewRaw(q, perCommunity).Exec(ctx); err != nil {
				return err
			}
		}
		var rs []struct {
			ID          string `bun:"id"`
			TenantID    string `bun:"tenant_id"`
			HouseholdID string `bun:"household_id"`
		}
		if err := tx.NewRaw(`SELECT id, tenant_id, household_id FROM residents`).Scan(ctx, &rs); err != nil {
			return err
		}
		now := time.Date(2020, 2, 1, 2, 0, 0, 0, time.UTC)
		cases := make([]isolation.Case, len(rs))
		for i, r := range rs {
			id := fmt.Sprintf("case-%06d", i)
			hash := fmt.Sprintf("%064d", i)
			cases[i] = isolation.Case{TenantID: r.TenantID, ID: id, ResidentID: r.ID, HouseholdID: r.HouseholdID, Kind: isolation.KindHomeIsolation,
				StartDate: "2020-02-01", Days: 14, EndDate: "2020-02-15", Status: isolation.StatusActive, LinkHash: &hash,
				LinkSealed: box.Seal([]byte(fmt.Sprintf("token-%043d", i)), []byte(id)), CreatedBy: "bench", CreatedAt: now, UpdatedAt: now}
		}
		for from := 0; from < len(cases); from += 2000 {
			part := cases[from:min(from+2000, len(cases))]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return err
			}
		}
		_, err := tx.NewRaw(`ANALYZE`).Exec(ctx)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	clock := time.Date(2020, 2, 4, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	frame := scope.New(db)
	out := &outreach.Service{DB: db, Frame: frame, Now: func() time.Time { return clock }}
	svc := &isolation.Service{DB: db, Frame: frame, Notify: out, Links: box, BaseURL: "https://wanjia.example",
		Now: func() time.Time { return clock }}
	count := &statements{}
	db.DB = db.WithQueryHook(count)
	return db, svc, count
}

// benchSweeps times the morning sweep, which writes want reminders.
func benchSweeps(b *testing.B, db *store.DB, svc *isolation.Service, count *statements, want int) {
	communities := countCommunities(b, db)
	db.DB.SetMaxIdleConns(10) // the backends whose CPU is counted stay
	b.ResetTimer()
	var total, cpu time.Duration
	var stmts int64
	for range b.N {
		wall, c, n := sweepOnce(b, db, svc, count, want)
		total, cpu, stmts = total+wall, cpu+c, stmts+n
	}
	for q, d := range count.by {
		if d > 100*time.Millisecond {
			b.Logf("%6d ms  %s", d.Milliseconds(), q)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/sweep")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/sweep")
	b.ReportMetric(float64(want), "reminders/sweep")
	b.ReportMetric(float64(stmts)/float64(b.N)/float64(communities), "statements/community")
}

func countCommunities(b *testing.B, db *store.DB) int {
	communities := 0
	if err := db.NewRaw("SELECT count(*) FROM orgs WHERE kind = 'community'").Scan(storetest.Unguarded(context.Background()), &communities); err != nil {
		b.Fatal(err)
	}
	return communities
}

// sweepOnce clears the last sweep's work, then times one sweep (wall, and
// CPU by sweepCPU) and counts its statements; it fails unless the sweep
// wrote want reminders, each once.
func sweepOnce(b *testing.B, db *store.DB, svc *isolation.Service, count *statements, want int) (wall, cpu time.Duration, stmts int64) {
	ctx := context.Background()
	b.StopTimer()
	if err := db.AcrossTenants(ctx, "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`DELETE FROM isolation_sweeps`).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewRaw(`DELETE FROM outreach_messages WHERE notice_key IS NOT NULL`).Exec(ctx)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	cpu0 := sweepCPU(db)
	count.n.Store(0)
	b.StartTimer()
	start := time.Now()
	r, err := svc.Sweep(ctx)
	wall = time.Since(start)
	stmts = count.n.Load()
	cpu = sweepCPU(db) - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if r.Reminders != want {
		b.Fatalf("%d reminders, want %d", r.Reminders, want)
	}
	var written int
	if err := db.AcrossTenants(ctx, "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT count(*) FROM outreach_messages WHERE notice_key LIKE 'checkin:%'`).Scan(ctx, &written)
	}); err != nil || written != want {
		b.Fatalf("%d outbox rows, want %d: %v", written, want, err)
	}
	b.StartTimer()
	return wall, cpu, stmts
}

// sweepCPU is the CPU time of this process and of the PostgreSQL backends
// serving its connections to port 5432, read from /proc: the machine is
// shared, and wall time counts the others' work too. A server elsewhere
// (or a backend closed meanwhile) is not counted.
func sweepCPU(db *store.DB) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	mine := map[string]bool{}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, f := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			x := strings.Fields(sc.Text())
			if len(x) < 10 || !mine[x[9]] || !strings.HasSuffix(x[2], ":1538") {
				continue
			}
			p, _ := strconv.ParseInt(x[1][strings.LastIndex(x[1], ":")+1:], 16, 32)
			ports = append(ports, int(p))
		}
		fh.Close()
	}
	var pids []int
	ctx := storetest.Unguarded(context.Background())
	for _, p := range ports {
		var pid int
		if err := db.NewRaw("SELECT pid FROM pg_stat_activity WHERE client_port = ?", p).Scan(ctx, &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	tick := 100 // USER_HZ
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		x := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.Atoi(x[11])
		s, _ := strconv.Atoi(x[12])
		total += time.Duration(u+s) * time.Second / time.Duration(tick)
	}
	return total
}
