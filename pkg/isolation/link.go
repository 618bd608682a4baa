package isolation

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// The resident's link, /r/{token}: the resident checks in and asks for
// help with no account. The token is the credential; it finds its case
// across communities (the one AcrossTenants use of isolation's link), and
// everything after runs in that case's community, as the resident.

// Link is a resident's link once found: its case and community. Only
// ByLink makes one, so holding one means a live link was presented.
type Link struct {
	tenant, caseID, hash string
	org, orgPath         string
}

// CaseID is the case the link opens (for tests and logs; never shown).
func (l *Link) CaseID() string { return l.caseID }

// tokenLen is the length of a token: 32 bytes in base64url, unpadded.
var tokenLen = base64.RawURLEncoding.EncodedLen(32)

// ByLink finds the live case of a link token. An unknown token, a forged
// one and one whose case has ended (its hash is cleared then) are the same
// 404: the caller cannot tell them apart, and nothing is written.
func (s *Service) ByLink(ctx context.Context, token string) (*Link, error) {
	if len(token) != tokenLen {
		return nil, notFound()
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return nil, notFound()
	}
	hash := HashToken(token)
	var rows []struct {
		TenantID string `bun:"tenant_id"`
		ID       string `bun:"id"`
		LinkHash string `bun:"link_hash"`
		Slug     string `bun:"slug"`
		Path     string `bun:"path"`
	}
	err := s.DB.AcrossTenants(ctx, "isolation: find a resident's link", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("isolation_cases AS c").ColumnExpr("c.tenant_id, c.id, c.link_hash, o.slug, o.path").
			Join("JOIN orgs AS o ON o.id = c.tenant_id").
			Where("c.link_hash = ? AND c.status IN (?, ?)", hash, StatusActive, StatusEligible).
			Limit(2).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("find link: %w", err)
	}
	// Two cases with one hash would take 2^128 tries to meet; should it
	// happen, neither is opened by a link that might be the other's.
	if len(rows) != 1 || subtle.ConstantTimeCompare([]byte(rows[0].LinkHash), []byte(hash)) != 1 {
		return nil, notFound()
	}
	r := rows[0]
	return &Link{tenant: r.TenantID, caseID: r.ID, hash: hash, org: r.Slug, orgPath: r.Path}, nil
}

// in binds ctx to the link's community, with the resident as the actor of
// what the audit log records (keeping the address and request id the
// page put there).
func (l *Link) in(ctx context.Context) context.Context {
	a := audit.ActorFrom(ctx)
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "resident:" + l.caseID, Username: "resident", Role: "resident",
		Org: l.org, OrgPath: l.orgPath, IP: a.IP, Request: a.Request})
	return scope.With(ctx, scope.Tenant{TenantID: l.tenant})
}

// linked loads the link's case again in tx: a case released or ended
// since ByLink (its hash cleared) is the same 404.
func linked(ctx context.Context, tx *store.TenantTx, g *scope.Grids, l *Link) (*caseRow, error) {
	r := new(caseRow)
	err := selectCases(tx, g, r).Where("c.id = ? AND c.link_hash = ? AND c.status IN (?, ?)", l.caseID, l.hash, StatusActive, StatusEligible).Scan(ctx)
	if isNoRows(err) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load linked case: %w", err)
	}
	return r, nil
}

// ResidentView is what the resident's page shows: their name half hidden
// (a link forwarded by mistake tells nobody who is isolated), the dates,
// today's check-in and their open requests. Never the phone, the ID
// number or the address.
type ResidentView struct {
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	StartDate string         `json:"start_date"`
	EndDate   string         `json:"end_date"`
	Today     string         `json:"today"`
	DaysLeft  int            `json:"days_left"`
	Checkin   *ResidentDay   `json:"checkin,omitempty"` // today's counting check-in
	Requests  []ResidentHelp `json:"requests"`          // open or assigned
	Symptoms  []string       `json:"-"`                 // the fixed list, for the form
	Kinds     []string       `json:"-"`                 // support kinds, for the form
}

// ResidentDay is a check-in as the resident sees it.
type ResidentDay struct {
	Temperature string    `json:"temperature"` // "36.8"
	Symptoms    []string  `json:"symptoms"`
	At          time.Time `json:"at"`
	Fever       bool      `json:"fever"`
}

// ResidentHelp is a request for help as the resident sees it.
type ResidentHelp struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Date   string `json:"date"`
}

// MaskName hides most of a name: the first character and, for names of
// three or more, the last ("张*明", "张*", "Z****g").
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return string(r)
	case 2:
		return string(r[0]) + "*"
	}
	out := []rune{r[0]}
	for range len(r) - 2 {
		out = append(out, '*')
	}
	return string(append(out, r[len(r)-1]))
}

// LinkPage is the resident's page: their case as ResidentView shows it.
func (s *Service) LinkPage(ctx context.Context, l *Link) (*ResidentView, error) {
	return scope.Read(l.in(ctx), s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ResidentView, error) {
		r, err := linked(ctx, tx, g, l)
		if err != nil {
			return nil, err
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		today := c.Day(s.now())
		v := &ResidentView{Name: MaskName(r.Name), Kind: r.Kind, StartDate: r.StartDate, EndDate: r.EndDate, Today: today,
			Requests: []ResidentHelp{}, Symptoms: Symptoms, Kinds: SupportKinds}
		if t0, e1 := time.Parse(time.DateOnly, today); e1 == nil {
			if t1, e2 := time.Parse(time.DateOnly, r.EndDate); e2 == nil && t1.After(t0) {
				v.DaysLeft = int(t1.Sub(t0).Hours() / 24)
			}
		}
		var k []Checkin
		if err := tx.Select(&k).Where("k.case_id = ? AND k.local_date = ? AND k.counts", r.ID, today).Limit(1).Scan(ctx); err != nil {
			return nil, fmt.Errorf("today's check-in: %w", err)
		}
		if len(k) == 1 {
			v.Checkin = &ResidentDay{Temperature: strconv.FormatFloat(tenths(k[0].Temperature), 'f', 1, 64), Symptoms: k[0].Symptoms,
				At: k[0].At, Fever: k[0].Temperature >= FeverTemperature || len(k[0].Symptoms) > 0}
		}
		var reqs []SupportRequest
		if err := tx.Select(&reqs).Where("sr.case_id = ? AND sr.status IN (?, ?)", r.ID, SupportOpen, SupportAssigned).
			OrderExpr("sr.id").Limit(20).Scan(ctx); err != nil {
			return nil, fmt.Errorf("open requests: %w", err)
		}
		for _, q := range reqs {
			v.Requests = append(v.Requests, ResidentHelp{Kind: q.Kind, Status: q.Status, Date: q.LocalDate})
		}
		return v, nil
	})
}

// SelfCheckin is a resident's check-in through their link: temperature
// as typed ("36.8"), symptoms from the fixed list. It takes the same path
// as staff's (the first of the day counts, a fever raises the alert and
// sends it); with an idempotency key in ctx, a form sent twice records
// once. Bad input is a 422 on its field, and nothing is stored.
func (s *Service) SelfCheckin(ctx context.Context, l *Link, temperature string, symptoms []string) (*CheckinView, error) {
	ctx, sent := collect(l.in(ctx))
	out, err := scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*CheckinView, error) {
		r, err := linked(ctx, tx, g, l)
		if err != nil {
			return nil, err
		}
		var fe []errs.FieldError
		t := parseTemperature(&fe, json.RawMessage(strconv.Quote(temperature)))
		sy := checkSymptoms(&fe, symptoms)
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		return s.checkin(ctx, tx, r, &Checkin{Temperature: t, Symptoms: sy, Source: SourceSelf, ByUser: "resident", ByName: r.Name})
	})
	if err != nil {
		return nil, err
	}
	s.flush(ctx, sent)
	return out, nil
}

// SelfSupport is a resident's request for help through their link, tied
// to their case and due after the community's support_overdue_hours.
func (s *Service) SelfSupport(ctx context.Context, l *Link, kind, details string) (*ResidentHelp, error) {
	return scope.Once(l.in(ctx), s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ResidentHelp, error) {
		r, err := linked(ctx, tx, g, l)
		if err != nil {
			return nil, err
		}
		var fe []errs.FieldError
		oneOf(&fe, "kind", kind, SupportKinds...)
		text(&fe, "details", &details, 500)
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		due := now.Add(time.Duration(c.Settings.SupportOverdue()) * time.Hour)
		sr := &SupportRequest{TenantID: tx.Tenant(), ID: newID(), ResidentID: r.ResidentID, HouseholdID: r.HouseholdID, CaseID: &r.ID,
			Kind: kind, Details: details, Status: SupportOpen, DueAt: due, DueLocal: dueLocal(c, due), LocalDate: c.Day(now),
			CreatedBy: "resident", CreatedAt: now, UpdatedAt: now}
		if _, err := tx.Insert(sr).Exec(ctx); err != nil {
			return nil, fmt.Errorf("file support request: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "support_request", sr.ID,
			map[string]any{"resident_id": r.ResidentID, "kind": kind, "source": SourceSelf}); err != nil {
			return nil, err
		}
		return &ResidentHelp{Kind: kind, Status: sr.Status, Date: sr.LocalDate}, nil
	})
}
