package reports

import (
	"context"
	"errors"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Day is the community's report of date (YYYY-MM-DD): its latest
// submitted version, or else the live draft, with the cut-off snapshot
// and every stored version.
func (s *Service) Day(ctx context.Context, date string) (*Report, error) {
	if _, err := parseDay("date", date); err != nil {
		return nil, err
	}
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Report, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		return s.view(ctx, tx, c, date)
	})
}

// Today is the community's report of its today, with yesterday's.
func (s *Service) Today(ctx context.Context) (*Today, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Today, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		today, err := s.view(ctx, tx, c, c.Day(now))
		if err != nil {
			return nil, err
		}
		yesterday, err := s.view(ctx, tx, c, c.Day(now.In(c.Loc).AddDate(0, 0, -1)))
		if err != nil {
			return nil, err
		}
		return &Today{Report: today, Yesterday: yesterday}, nil
	})
}

// view builds the report of day from its stored versions, or from the
// live figures when none was submitted.
func (s *Service) view(ctx context.Context, tx *store.TenantTx, c orgs.Community, day string) (*Report, error) {
	var rows []row
	if err := tx.Select(&rows).Where("r.date = ?", day).Order("r.version DESC").Scan(ctx); err != nil {
		return nil, wrap("versions", err)
	}
	rep := &Report{Org: orgSlug(ctx), Date: day, Status: StatusDraft, CutoffAt: cutoffAt(day, c.Loc, c.Settings),
		History: make([]Version, 0, len(rows))}
	for _, r := range rows {
		v := versionOf(r)
		rep.History = append(rep.History, v)
		switch {
		case r.Version == 0:
			rep.Cutoff = &v
		case r.Version == 1:
			at := r.At
			rep.SubmittedAt, rep.AfterCutoff = &at, r.AfterCutoff
		}
		if r.Version >= 1 && rep.Status == StatusDraft {
			rep.Status, rep.Version, rep.Kind, rep.Figures, rep.Manual = StatusSubmitted, r.Version, r.Kind, r.Figures, r.Manual
		}
	}
	if rep.Status == StatusSubmitted {
		return rep, nil
	}
	figures, manual, err := s.draftOf(ctx, tx, day)
	if err != nil {
		return nil, err
	}
	rep.Figures, rep.Manual = figures, manual
	rep.Late = !s.now().Before(rep.CutoffAt)
	return rep, nil
}

func versionOf(r row) Version {
	return Version{Version: r.Version, Kind: r.Kind, At: r.At, By: r.ByName, Reason: r.Reason, AfterCutoff: r.AfterCutoff,
		Figures: pick(r.Figures), Manual: manualOver(nil, r.Manual)}
}

// draftOf is the live draft of day: the figures as the records stand,
// and the typed-in part given so far over its pre-filled values.
func (s *Service) draftOf(ctx context.Context, tx *store.TenantTx, day string) (Figures, Figures, error) {
	figures, pre, err := live(ctx, tx, day)
	if err != nil {
		return nil, nil, err
	}
	given, err := s.given(ctx, tx, day)
	if err != nil {
		return nil, nil, err
	}
	return figures, manualOver(pre, given), nil
}

// given is the typed-in fields saved for day's draft.
func (s *Service) given(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	var d draft
	err := tx.Select(&d).Where("d.date = ?", day).Limit(1).Scan(ctx)
	if isNoRows(err) {
		return Figures{}, nil
	}
	return d.Manual, wrap("draft", err)
}

// submitted reports whether day has a submission.
func submitted(ctx context.Context, tx *store.TenantTx, day string) (bool, error) {
	ok, err := tx.Select((*row)(nil)).Where("r.date = ? AND r.version = 1", day).Exists(ctx)
	return ok, wrap("submission", err)
}

// notAfterToday refuses a day after the community's today: nothing can be
// typed in or submitted for it yet.
func (s *Service) notAfterToday(c orgs.Community, day string) error {
	if day > c.Day(s.now()) {
		return errs.Validation(errs.Field("date", "date_in_future", nil))
	}
	return nil
}

// SaveDraft saves the typed-in fields sent for date's draft (the others
// keep what was given before, or their pre-filled values) and answers the
// report. Once submitted it is a 409: a correction changes a submission.
func (s *Service) SaveDraft(ctx context.Context, date string, in ManualInput) (*Report, error) {
	if _, err := parseDay("date", date); err != nil {
		return nil, err
	}
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Report, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		if done, err := submitted(ctx, tx, date); err != nil || done {
			return nil, orConflict(err, done)
		}
		if err := s.notAfterToday(c, date); err != nil {
			return nil, err
		}
		sent, err := parseManual(in.Manual)
		if err != nil {
			return nil, err
		}
		given, err := s.given(ctx, tx, date)
		if err != nil {
			return nil, err
		}
		if given == nil {
			given = Figures{}
		}
		for k, v := range sent {
			given[k] = v
		}
		user, _ := by(ctx)
		d := &draft{TenantID: tx.Tenant(), Date: date, Manual: given, UpdatedBy: user, UpdatedAt: s.now()}
		if _, err := tx.Insert(d).On("CONFLICT (tenant_id, date) DO UPDATE").
			Set("manual = EXCLUDED.manual, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return nil, wrap("save draft", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "daily_report", date, map[string]any{"manual": sent}); err != nil {
			return nil, err
		}
		return s.view(ctx, tx, c, date)
	})
}

// orConflict is err, or the 409 of a day already submitted.
func orConflict(err error, done bool) error {
	if err != nil {
		return err
	}
	if done {
		return errs.Conflict("report_submitted", nil)
	}
	return nil
}

// Submit freezes date's report as submitted (version 1): the figures
// computed now and the typed-in part as the draft has it. A second submit
// is a 409; a retry with the same Idempotency-Key answers the first.
func (s *Service) Submit(ctx context.Context, date string) (*Report, error) {
	if _, err := parseDay("date", date); err != nil {
		return nil, err
	}
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Report, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		if done, err := submitted(ctx, tx, date); err != nil || done {
			return nil, orConflict(err, done)
		}
		if err := s.notAfterToday(c, date); err != nil {
			return nil, err
		}
		figures, manual, err := s.draftOf(ctx, tx, date)
		if err != nil {
			return nil, err
		}
		now := s.now()
		user, name := by(ctx)
		r := &row{TenantID: tx.Tenant(), Date: date, Version: 1, Kind: KindSubmission, Figures: figures, Manual: manual,
			AfterCutoff: now.After(cutoffAt(date, c.Loc, c.Settings)), ByUser: user, ByName: name, At: now}
		// The key decides between two submits at once: the second writes
		// nothing and is the same 409 as a submit after the first.
		res, err := tx.Insert(r).On("CONFLICT (tenant_id, date, version) DO NOTHING").Exec(ctx)
		if err != nil {
			return nil, wrap("submit", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, errs.Conflict("report_submitted", nil)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "daily_report", date,
			map[string]any{"version": 1, "kind": KindSubmission, "after_cutoff": r.AfterCutoff}); err != nil {
			return nil, err
		}
		return s.view(ctx, tx, c, date)
	})
}

// Correct adds a version to date's submitted report: fresh figures, the
// typed-in fields sent over the latest version's, and the reason. Before
// a submission it is a 409 (the draft is still open to PUT).
func (s *Service) Correct(ctx context.Context, date string, in CorrectionInput) (*Report, error) {
	if _, err := parseDay("date", date); err != nil {
		return nil, err
	}
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Report, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		var latest row
		err = tx.Select(&latest).Where("r.date = ? AND r.version >= 1", date).Order("r.version DESC").Limit(1).Scan(ctx)
		if isNoRows(err) {
			return nil, errs.Conflict("report_not_submitted", nil)
		}
		if err != nil {
			return nil, wrap("latest version", err)
		}
		var fe []errs.FieldError
		sent, err := parseManual(in.Manual)
		var ve *errs.Error
		if errors.As(err, &ve) {
			fe = append(fe, ve.Fields...)
		} else if err != nil {
			return nil, err
		}
		reason := trimmed(in.Reason)
		switch {
		case reason == "":
			fe = append(fe, errs.Field("reason", "required", nil))
		case len([]rune(reason)) > 500:
			fe = append(fe, errs.Field("reason", "too_long", map[string]any{"max": 500}))
		}
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		figures, _, err := live(ctx, tx, date)
		if err != nil {
			return nil, err
		}
		now := s.now()
		user, name := by(ctx)
		r := &row{TenantID: tx.Tenant(), Date: date, Version: latest.Version + 1, Kind: KindCorrection, Figures: figures,
			Manual: manualOver(latest.Manual, sent), AfterCutoff: now.After(cutoffAt(date, c.Loc, c.Settings)),
			ByUser: user, ByName: name, At: now, Reason: reason}
		res, err := tx.Insert(r).On("CONFLICT (tenant_id, date, version) DO NOTHING").Exec(ctx)
		if err != nil {
			return nil, wrap("correct", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Another correction took this version meanwhile.
			return nil, errs.Conflict("report_changed", nil)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "daily_report", date,
			map[string]any{"version": r.Version, "kind": KindCorrection, "manual": sent}); err != nil {
			return nil, err
		}
		return s.view(ctx, tx, c, date)
	})
}

// late reports whether day's cut-off has passed at now.
func late(now time.Time, day string, c orgs.Community) bool {
	return !now.Before(cutoffAt(day, c.Loc, c.Settings))
}
