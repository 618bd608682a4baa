package outreach_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// gatedProvider takes every message but answers only once it is let go,
// and, like the webhook gateway, cannot be asked about a message later.
type gatedProvider struct {
	*fake
	arrived chan string
	release chan struct{}
}

func (g *gatedProvider) Send(ctx context.Context, m provider.Message) (provider.Sent, error) {
	g.arrived <- m.ID
	<-g.release
	return g.fake.Send(ctx, m)
}

func (*gatedProvider) Query(context.Context, provider.Message, provider.Sent) (provider.Status, error) {
	return provider.Status{}, provider.ErrCannotQuery
}

// writeLock holds the database's write lock on the outbox until the
// returned release: on SQLite another connection's BEGIN IMMEDIATE, on
// PostgreSQL the administrator's LOCK TABLE, so that every write of a
// message waits and then fails when its transaction's time is up: a real
// outage of the record, not a fake store.
func writeLock(t *testing.T, db *store.DB, adminURL, dir string) (release func()) {
	t.Helper()
	ctx := context.Background()
	if db.Flavor() == store.Postgres {
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE outreach_messages IN EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		return func() { _ = tx.Rollback(ctx); _ = conn.Close(ctx) }
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() { _, _ = conn.ExecContext(ctx, "ROLLBACK"); _ = conn.Close(); _ = raw.Close() }
}

// TestRecordSurvivesDatabaseOutage: the provider accepts five messages
// while the database refuses every write to the outbox for a few seconds
// (longer than a record's transaction may take). The provider's answers
// are kept and written once the database is back: all five end sent,
// none unknown, each sent once, even after the reconciler has looked for
// abandoned sends.
func TestRecordSurvivesDatabaseOutage(t *testing.T) {
	t.Parallel()
	const n = 5
	appURL, adminURL, dir := storetest.FreshAdmin(t)
	db, err := store.Open(context.Background(), store.Options{URL: appURL, DataDir: dir, MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := newWorldOn(t, db)
	w.realNoon()
	gate := &gatedProvider{fake: w.Fake, arrived: make(chan string, n), release: make(chan struct{})}
	w.Outreach.Provider = gate
	w.Outreach.Rules.SendTimeout = 300 * time.Millisecond
	w.households(t, "c1", "c1-g1", n)
	staff := w.as(t, "c1.staff", "c1")
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range messageIDs(t, w, c.ID) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.Outreach.SendMessage(w.tenant(t, "c1"), id)
		}()
	}
	for range n {
		<-gate.arrived // every message claimed and with the provider
	}
	release := writeLock(t, db, adminURL, dir)
	close(gate.release)
	time.Sleep(3 * time.Second) // ten records' transactions' time
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("send: %v", err)
		}
	}
	// Whatever was left sending is now abandoned: the reconciler would
	// ask the provider, which cannot say.
	time.Sleep(600 * time.Millisecond)
	if _, err := w.Outreach.Reconcile(staff); err != nil {
		t.Fatal(err)
	}
	st := w.get(t, "c1", c.ID).Stats
	if st.Sent != n || st.Unknown != 0 {
		t.Fatalf("after the outage: %+v, want all %d sent and none unknown", st, n)
	}
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != n {
		t.Fatalf("sent twice: %v; %d of %d sent", d, w.Fake.count(), n)
	}
}
