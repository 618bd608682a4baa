package scope

import (
	"context"
	"errors"
	"strings"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/pii"
)

// ReadRecorder takes the entries of reads of personal data, outside the
// reader's transaction: audit.Reads (batched) in the app. Every domain's
// Service has one, as Reads, and records through RecordRead only.
type ReadRecorder interface {
	Record(ctx context.Context, resource, resourceID string, details map[string]any)
}

// Seen is one read of personal data: what the caller saw and how they
// came to it.
type Seen struct {
	Resource string   // "residents", "household", "outreach_opt_outs", …
	ID       string   // the one record read; "" for a page, recorded as "list"
	IDs      []string // the records a page returned
	// Phones a page returned, for lists whose rows name a person by phone
	// only (opt-outs, replies): recorded masked.
	Phones []string
	Search string // the search as typed: recorded masked (audit.MaskSearch)
	// Filters are the page's other filters and context (grid, tag,
	// screening_id, …); empty strings, false and nil are left out.
	Filters map[string]any
}

// RecordRead is the one rule for recording a read of personal data, masked
// or not (the log must show who looked at whom, officials who see masks
// included): the caller's view ("masked"), the record read or the ids a
// page returned ("ids", "count"), the search (masked) and the filters. A
// page that returned nothing and searched nothing saw no one and is not
// recorded; a search that found nothing is (a probe for a number is a
// read).
//
// rec is the service's recorder. Without one (a service built without it:
// tests, tools) the entry is written at once through db, and a failure to
// write it fails the read: a read is never left unrecorded because a
// recorder was not wired. db is the transaction the read runs in when that
// is a write (scope.Run: on SQLite a second connection would wait on its
// lock), the database when it is read-only (scope.Read refuses writes).
func RecordRead(ctx context.Context, rec ReadRecorder, db audit.Writer, r Seen) error {
	if r.ID == "" && len(r.IDs) == 0 && len(r.Phones) == 0 && r.Search == "" {
		return nil
	}
	d := make(map[string]any, len(r.Filters)+5)
	for k, v := range r.Filters {
		switch x := v.(type) {
		case nil:
			continue
		case string:
			if x == "" {
				continue
			}
		case bool:
			if !x {
				continue
			}
		}
		d[k] = v
	}
	d["masked"] = ViewOf(ctx).Masked()
	id := r.ID
	if r.IDs != nil {
		d["count"] = len(r.IDs)
	} else if id == "" {
		d["count"] = len(r.Phones)
	}
	if id == "" {
		id = "list"
	}
	if r.IDs != nil {
		d["ids"] = r.IDs
	}
	if len(r.Phones) > 0 {
		phones := make([]string, len(r.Phones))
		for i, p := range r.Phones {
			if strings.ContainsRune(p, '*') {
				phones[i] = p // the view masked it already
			} else {
				phones[i] = pii.MaskPhone(p)
			}
		}
		d["phones"] = phones
	}
	if r.Search != "" {
		d["q"] = audit.MaskSearch(r.Search)
	}
	if rec != nil {
		rec.Record(ctx, r.Resource, id, d)
		return nil
	}
	if db == nil {
		return errors.New("scope: a read of personal data with neither a recorder nor a database to record it in")
	}
	return audit.Record(ctx, db, audit.ActionView, r.Resource, id, d)
}
