package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// key is a row of idempotency_keys.
type key struct {
	bun.BaseModel `bun:"table:idempotency_keys,alias:ik"`
	TenantID      string    `bun:"tenant_id,pk"`
	Key           string    `bun:"key,pk"`
	Fingerprint   string    `bun:"fingerprint"`
	Response      *string   `bun:"response"` // JSON; nil until Save
	CreatedAt     time.Time `bun:"created_at"`
}

// Reused is the 422 for a key sent again with another request.
func Reused() *errs.Error {
	return errs.Validation(errs.Field(Header, "idempotency_key_reused", nil))
}

// Claim takes r's key for the write about to run in tx. It reports
// claimed when the key is new (or had expired): the caller then writes and
// calls Save in the same tx. Otherwise an earlier write with this key
// committed, and Claim returns its response to answer with instead; or,
// when that write was another request, the 422 of Reused.
//
// On PostgreSQL the claim waits for a concurrent transaction holding the
// same key and sees its outcome: committed, this is a replay; rolled back,
// the claim is this transaction's. SQLite runs one writer at a time.
func Claim(ctx context.Context, tx *store.TenantTx, r Request) (response []byte, claimed bool, err error) {
	now := time.Now().UTC()
	// An expired key is a new one: its row goes before the claim, and
	// within this transaction, so a concurrent claim waits on the delete.
	if _, err := tx.Delete((*key)(nil)).Where("ik.key = ? AND ik.created_at < ?", r.Key, now.Add(-TTL)).Exec(ctx); err != nil {
		return nil, false, fmt.Errorf("idempotency: drop expired key: %w", err)
	}
	res, err := tx.Insert(&key{TenantID: tx.Tenant(), Key: r.Key, Fingerprint: r.Fingerprint, CreatedAt: now}).
		On("CONFLICT (tenant_id, key) DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("idempotency: claim key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, fmt.Errorf("idempotency: claim key: %w", err)
	}
	if n == 1 {
		return nil, true, nil
	}
	var k key
	if err := tx.Select(&k).Where("ik.key = ?", r.Key).Scan(ctx); err != nil {
		return nil, false, fmt.Errorf("idempotency: read claimed key: %w", err)
	}
	if k.Fingerprint != r.Fingerprint {
		return nil, false, Reused()
	}
	if k.Response == nil {
		// Claim and Save share a transaction, so a committed key always
		// has its response; this one was written some other way.
		return nil, false, errors.New("idempotency: key stored without a response")
	}
	return []byte(*k.Response), false, nil
}

// Save stores the response of the write that claimed r's key in tx, for
// the retries to come.
func Save(ctx context.Context, tx *store.TenantTx, r Request, response any) error {
	b, err := json.Marshal(response)
	if err != nil {
		return fmt.Errorf("idempotency: encode response: %w", err)
	}
	res, err := tx.Update((*key)(nil)).Set("response = ?", string(b)).Where("ik.key = ?", r.Key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("idempotency: save response: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("idempotency: save response: key %q not claimed in this transaction (%d rows, %v)", r.Key, n, err)
	}
	return nil
}

// Purge deletes the keys of every tenant created before now minus TTL and
// reports how many went.
func Purge(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	var n int64
	err := db.AcrossTenants(ctx, "idempotency: purge expired keys", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().TableExpr("idempotency_keys").Where("created_at < ?", now.UTC().Add(-TTL)).Exec(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("idempotency: purge: %w", err)
	}
	return n, nil
}
