package orgs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Notifier hears that orgs or memberships changed (the authz watcher).
type Notifier interface {
	Changed(ctx context.Context) error
}

// Service manages the tree, grids, users and memberships.
type Service struct {
	DB     *store.DB
	Authz  *authz.Authorizer
	Notify Notifier
	Frame  *scope.Frame // told when grids change; may be nil
	Argon2 authn.Argon2Params
	// Users hears of a changed account (authn.Service.ForgetUser), so a
	// disabled one is refused at once here; may be nil.
	Users interface{ ForgetUser(id string) }
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// Directory is the tree and the grants as authz reads them (authz.Source).
// It is apart from Service so the two are built in order: the directory,
// then the authorizer over it, then the service that asks the authorizer.
type Directory struct{ DB *store.DB }

// AuthzSnapshot implements authz.Source: every org and membership.
func (d Directory) AuthzSnapshot(ctx context.Context) (*authz.Snapshot, error) {
	var orgs []Org
	if err := d.DB.NewSelect().Model(&orgs).Column("id", "slug", "kind", "path", "timezone").Scan(ctx); err != nil {
		return nil, err
	}
	var ms []Membership
	if err := d.DB.NewSelect().Model(&ms).
		Join("JOIN users AS u ON u.id = membership.user_id").Where("u.disabled = ?", false).
		Column("membership.user_id", "membership.org_id", "membership.role", "membership.grids").Scan(ctx); err != nil {
		return nil, err
	}
	snap := &authz.Snapshot{Orgs: make([]authz.Org, 0, len(orgs)), Memberships: make([]authz.Membership, 0, len(ms))}
	for _, o := range orgs {
		snap.Orgs = append(snap.Orgs, authz.Org{ID: o.ID, Slug: o.Slug, Kind: o.Kind, Path: o.Path, Timezone: o.Timezone})
	}
	for _, m := range ms {
		am := authz.Membership{UserID: m.UserID, Role: m.Role, Grids: m.Grids}
		if m.OrgID != nil {
			am.OrgID = *m.OrgID
		}
		snap.Memberships = append(snap.Memberships, am)
	}
	return snap, nil
}

// OrgView is an org as the API shows it.
type OrgView struct {
	ID       string    `json:"id"`
	Slug     string    `json:"slug"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Parent   string    `json:"parent"`
	Timezone string    `json:"timezone"`
	Settings *Settings `json:"settings,omitempty"`
}

// List returns the orgs the caller can see, tree order.
func (s *Service) List(ctx context.Context, userID string) ([]OrgView, error) {
	vis := s.Authz.Visible(userID)
	if len(vis) == 0 {
		return []OrgView{}, nil
	}
	ids := make([]string, 0, len(vis))
	for _, o := range vis {
		ids = append(ids, o.ID)
	}
	var rows []Org
	if err := s.DB.NewSelect().Model(&rows).Where("id IN (?)", bun.List(ids)).Order("path").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	return s.views(ctx, rows)
}

func (s *Service) views(ctx context.Context, rows []Org) ([]OrgView, error) {
	parents := map[string]string{}
	for _, o := range rows {
		if o.ParentID != nil {
			parents[*o.ParentID] = ""
		}
	}
	for id := range parents {
		if p, ok := s.Authz.OrgByID(id); ok {
			parents[id] = p.Slug
		}
	}
	out := make([]OrgView, 0, len(rows))
	for i := range rows {
		o := &rows[i]
		v := OrgView{ID: o.ID, Slug: o.Slug, Name: o.Name, Kind: o.Kind, Timezone: o.Timezone}
		if o.ParentID != nil {
			v.Parent = parents[*o.ParentID]
		}
		if o.Kind == KindCommunity {
			st := o.Settings
			v.Settings = &st
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns one org by slug.
func (s *Service) Get(ctx context.Context, slug string) (*OrgView, error) {
	o, err := s.bySlug(ctx, s.DB, slug)
	if err != nil {
		return nil, err
	}
	v, err := s.views(ctx, []Org{*o})
	if err != nil {
		return nil, err
	}
	return &v[0], nil
}

func (s *Service) bySlug(ctx context.Context, db bun.IDB, slug string) (*Org, error) {
	o := new(Org)
	if err := db.NewSelect().Model(o).Where("slug = ?", slug).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.KindNotFound, "org_not_found", nil)
		}
		return nil, fmt.Errorf("load org %s: %w", slug, err)
	}
	return o, nil
}

// OrgInput creates an org.
type OrgInput struct {
	Slug     string    `json:"slug" yaml:"slug"`
	Name     string    `json:"name" yaml:"name"`
	Kind     string    `json:"kind" yaml:"kind"`
	Parent   string    `json:"parent" yaml:"parent"`
	Timezone string    `json:"timezone" yaml:"timezone"`
	Settings *Settings `json:"settings" yaml:"settings"`
}

var parentKind = map[string]string{KindDistrict: "", KindSubdistrict: KindDistrict, KindCommunity: KindSubdistrict}

func (in *OrgInput) normalize() {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	in.Parent = strings.TrimSpace(in.Parent)
	if in.Timezone == "" {
		in.Timezone = DefaultTimezone
	}
}

// Validate checks the fields that do not need the database.
func (in *OrgInput) Validate() []errs.FieldError {
	var fe []errs.FieldError
	if !slugRE.MatchString(in.Slug) {
		fe = append(fe, errs.Field("slug", "invalid_slug", nil))
	}
	if in.Name == "" {
		fe = append(fe, errs.Field("name", "required", nil))
	} else if utf8.RuneCountInString(in.Name) > 100 {
		fe = append(fe, errs.Field("name", "too_long", map[string]any{"max": 100}))
	}
	pk, ok := parentKind[in.Kind]
	if !ok {
		fe = append(fe, errs.Field("kind", "invalid_choice", map[string]any{"choices": "district, subdistrict, community"}))
	} else if pk == "" && in.Parent != "" {
		fe = append(fe, errs.Field("parent", "must_be_empty", nil))
	} else if pk != "" && in.Parent == "" {
		fe = append(fe, errs.Field("parent", "required", nil))
	}
	if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "Local" {
		fe = append(fe, errs.Field("timezone", "invalid_timezone", nil))
	}
	if in.Settings != nil {
		fe = append(fe, in.Settings.Validate("settings.")...)
	}
	return fe
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Validate checks settings; prefix names the fields in errors.
func (st *Settings) Validate(prefix string) []errs.FieldError {
	var fe []errs.FieldError
	if st.IsolationDays < 1 || st.IsolationDays > 60 {
		fe = append(fe, errs.Field(prefix+"isolation_days", "out_of_range", map[string]any{"min": 1, "max": 60}))
	}
	for field, v := range map[string]string{"report_cutoff": st.ReportCutoff, "quiet_hours.start": st.QuietHours.Start, "quiet_hours.end": st.QuietHours.End} {
		if !hhmm.MatchString(v) {
			fe = append(fe, errs.Field(prefix+field, "invalid_time_of_day", nil))
		}
	}
	if st.FailedCallsBeforeVisit < 0 || st.FailedCallsBeforeVisit > 10 {
		fe = append(fe, errs.Field(prefix+"failed_calls_before_visit", "out_of_range", map[string]any{"min": 1, "max": 10}))
	}
	if st.CareOverdueDays < 0 || st.CareOverdueDays > 90 {
		fe = append(fe, errs.Field(prefix+"care_overdue_days", "out_of_range", map[string]any{"min": 1, "max": 90}))
	}
	for field, v := range map[string]string{"checkin_reminder_at": st.CheckinReminderAt, "checkin_deadline": st.CheckinDeadline} {
		if v != "" && !hhmm.MatchString(v) {
			fe = append(fe, errs.Field(prefix+field, "invalid_time_of_day", nil))
		}
	}
	if st.SupportOverdueHours < 0 || st.SupportOverdueHours > 720 {
		fe = append(fe, errs.Field(prefix+"support_overdue_hours", "out_of_range", map[string]any{"min": 1, "max": 720}))
	}
	if st.IsolationRetentionDays < 0 || st.IsolationRetentionDays > 3650 {
		fe = append(fe, errs.Field(prefix+"isolation_retention_days", "out_of_range", map[string]any{"min": 1, "max": 3650}))
	}
	if st.ReportReminderAfter < 0 || st.ReportReminderAfter > 720 {
		fe = append(fe, errs.Field(prefix+"report_reminder_after", "out_of_range", map[string]any{"min": 1, "max": 720}))
	}
	fe = append(fe, wordList(prefix+"watch_list", st.WatchList, 50, 40)...)
	fe = append(fe, wordList(prefix+"care_tags", st.CareTags, 10, 20)...)
	sort.Slice(fe, func(i, j int) bool { return fe[i].Field < fe[j].Field })
	return fe
}

// wordList checks a settings list: at most n entries, each 1 to max
// characters.
func wordList(field string, words []string, n, max int) []errs.FieldError {
	if len(words) > n {
		return []errs.FieldError{errs.Field(field, "too_many_entries", map[string]any{"max": n})}
	}
	for _, w := range words {
		if l := utf8.RuneCountInString(strings.TrimSpace(w)); l == 0 || l > max {
			return []errs.FieldError{errs.Field(field, "entry_length", map[string]any{"max": max})}
		}
	}
	return nil
}

// Create adds an org below its parent (platform admins only; the route
// checks). The parent must be of the kind just above.
func (s *Service) Create(ctx context.Context, in OrgInput) (*OrgView, error) {
	in.normalize()
	if fe := in.Validate(); len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	var created *Org
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		created, err = s.insertOrg(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.Notify.Changed(ctx); err != nil {
		return nil, err
	}
	return s.Get(ctx, created.Slug)
}

func (s *Service) insertOrg(ctx context.Context, tx bun.IDB, in OrgInput) (*Org, error) {
	o := &Org{ID: newID(), Slug: in.Slug, Name: in.Name, Kind: in.Kind, Timezone: in.Timezone, Settings: DefaultSettings()}
	if in.Settings != nil {
		o.Settings = *in.Settings
	}
	o.Path = "/" + in.Slug + "/"
	if in.Parent != "" {
		p, err := s.bySlug(ctx, tx, in.Parent)
		if err != nil {
			return nil, errs.Validation(errs.Field("parent", "unknown_org", nil))
		}
		if p.Kind != parentKind[in.Kind] {
			return nil, errs.Validation(errs.Field("parent", "wrong_parent_kind", map[string]any{"kind": parentKind[in.Kind]}))
		}
		o.ParentID = &p.ID
		o.Path = p.Path + in.Slug + "/"
	}
	exists, err := tx.NewSelect().Model((*Org)(nil)).Where("slug = ?", in.Slug).Exists(ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, errs.New(errs.KindConflict, "slug_taken", map[string]any{"slug": in.Slug})
	}
	now := time.Now().UTC()
	o.CreatedAt, o.UpdatedAt = now, now
	if _, err := tx.NewInsert().Model(o).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create org %s: %w", in.Slug, err)
	}
	if err := audit.Record(audit.InOrg(ctx, o.Slug, o.Path), tx, audit.ActionCreate, "org", o.ID, map[string]any{"slug": o.Slug, "kind": o.Kind}); err != nil {
		return nil, err
	}
	return o, nil
}

// OrgPatch changes an org's name, time zone or settings.
type OrgPatch struct {
	Name     *string   `json:"name"`
	Timezone *string   `json:"timezone"`
	Settings *Settings `json:"settings"`
}

// Update applies a patch to the org with slug.
func (s *Service) Update(ctx context.Context, slug string, p OrgPatch) (*OrgView, error) {
	err := s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, err := s.bySlug(ctx, tx, slug)
		if err != nil {
			return err
		}
		in := OrgInput{Slug: o.Slug, Name: o.Name, Kind: o.Kind, Timezone: o.Timezone, Settings: &o.Settings}
		if o.ParentID != nil {
			in.Parent = "x" // only its presence is validated here
		}
		changed := []string{}
		if p.Name != nil {
			in.Name, changed = strings.TrimSpace(*p.Name), append(changed, "name")
		}
		if p.Timezone != nil {
			in.Timezone, changed = *p.Timezone, append(changed, "timezone")
		}
		if p.Settings != nil {
			in.Settings, changed = p.Settings, append(changed, "settings")
		}
		if fe := in.Validate(); len(fe) > 0 {
			return errs.Validation(fe...)
		}
		o.Name, o.Timezone, o.Settings, o.UpdatedAt = in.Name, in.Timezone, *in.Settings, time.Now().UTC()
		if _, err := tx.NewUpdate().Model(o).Column("name", "timezone", "settings", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update org: %w", err)
		}
		return audit.Record(audit.InOrg(ctx, o.Slug, o.Path), tx, audit.ActionUpdate, "org", o.ID, map[string]any{"fields": changed})
	})
	if err != nil {
		return nil, err
	}
	if err := s.Notify.Changed(ctx); err != nil {
		return nil, err
	}
	return s.Get(ctx, slug)
}
