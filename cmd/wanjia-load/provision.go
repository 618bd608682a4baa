package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// community is one of the drill's communities as the clients know it.
type community struct {
	Slug, Sub string
	Token     string
	Tasks     []string // open screening tasks (path prefix included)
	Cases     []caseRef
	Phones    []string // residents under isolation
}

type caseRef struct{ ID, Token, Phone string }

const drillPassword = "load-drill-Passw0rd!"

// writeTenants writes the tenant YAML of subs sub-districts with
// comms communities in all, 5 grids each, one admin each, and an
// official per sub-district. Quiet hours are kept (the drill's campaigns
// are urgent, as an outbreak's notices are).
func writeTenants(dir string, comms, subs int) ([]*community, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []*community
	for s := 1; s <= subs; s++ {
		sub := fmt.Sprintf("loadsd%d", s)
		y := fmt.Sprintf("kind: subdistrict\nslug: %s\nname: 压测街道%d\ntimezone: Asia/Shanghai\ndistrict:\n  slug: loaddistrict\n  name: 压测区\nmembers:\n  - {username: %s.official, display_name: 街道干部%d, role: subdistrict_official}\n", sub, s, sub, s)
		if err := os.WriteFile(filepath.Join(dir, sub+".yaml"), []byte(y), 0o644); err != nil {
			return nil, err
		}
	}
	for c := 1; c <= comms; c++ {
		slug := fmt.Sprintf("load%02d", c)
		sub := fmt.Sprintf("loadsd%d", (c-1)*subs/comms+1)
		var b strings.Builder
		fmt.Fprintf(&b, "kind: community\nslug: %s\nname: 压测社区%d\nsubdistrict: %s\ntimezone: Asia/Shanghai\ngrids:\n", slug, c, sub)
		for g := 1; g <= 5; g++ {
			fmt.Fprintf(&b, "  - {slug: %s-g%d, name: 第%d网格}\n", slug, g, g)
		}
		fmt.Fprintf(&b, "members:\n  - {username: %s.admin, display_name: 社区主任%d, role: community_admin}\n", slug, c)
		if err := os.WriteFile(filepath.Join(dir, slug+".yaml"), []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		out = append(out, &community{Slug: slug, Sub: sub})
	}
	return out, nil
}

// householdPhone is household h's phone in community c: unique across
// the drill.
func householdPhone(c, h int) string { return fmt.Sprintf("139%02d%06d", c, h) }

// residentPhone is a resident's own phone (under isolation).
func residentPhone(c, r int) string { return fmt.Sprintf("137%02d%06d", c, r) }

// householdsCSV is community c's roster of n households: the first
// tagged of them carry tag "w<i>" for the wave i of notices they get
// (wave = h mod waves).
func householdsCSV(c, n, tagged, waves int) []byte {
	var b bytes.Buffer
	b.WriteString("grid,address,phone,tags\n")
	for h := 1; h <= n; h++ {
		tag := ""
		if h <= tagged {
			tag = fmt.Sprintf("w%d", h%waves)
		}
		fmt.Fprintf(&b, "load%02d-g%d,压测路%d号%d室,%s,%s\n", c, h%5+1, c, h, householdPhone(c, h), tag)
	}
	return b.Bytes()
}

// residentsCSV is n residents, one in each of the first n households.
func residentsCSV(c, n int) []byte {
	var b bytes.Buffer
	b.WriteString("name,phone,grid,address,tags\n")
	for r := 1; r <= n; r++ {
		fmt.Fprintf(&b, "居民%d号,%s,load%02d-g%d,压测路%d号%d室,iso\n", r, residentPhone(c, r), c, r%5+1, c, r)
	}
	return b.Bytes()
}

type importView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Rows    int    `json:"rows"`
	Created int    `json:"created"`
	Updated int    `json:"updated"`
	Errors  []any  `json:"errors"`
}

// importFile uploads file as kind and waits for the import to end.
func importFile(ctx context.Context, api *API, c *community, kind string, file []byte, wait time.Duration) (*importView, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("kind", kind)
	fw, _ := mw.CreateFormFile("file", kind+".csv")
	_, _ = fw.Write(file)
	_ = mw.Close()
	var v importView
	if _, err := api.Do(ctx, "import", "POST", "/api/v1/orgs/"+c.Slug+"/imports", c.Token, body.Bytes(), &v,
		map[string]string{"Content-Type": mw.FormDataContentType()}); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for v.Status != "done" && v.Status != "failed" {
		if time.Now().After(deadline) {
			return &v, fmt.Errorf("%s: import %s still %s after %s", c.Slug, v.ID, v.Status, wait)
		}
		select {
		case <-ctx.Done():
			return &v, ctx.Err()
		case <-time.After(time.Second):
		}
		// A client asks again while the API cannot answer (a database
		// down: 503; a replica gone: no answer), as an operator's page does.
		if code, err := api.Do(ctx, "import-status", "GET", "/api/v1/orgs/"+c.Slug+"/imports/"+v.ID, c.Token, nil, &v, nil); err != nil && code != 0 && code < 500 {
			return &v, err
		}
	}
	return &v, nil
}

type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next_cursor"`
}

func login(ctx context.Context, api *API, user string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_, err := api.Do(ctx, "login", "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": drillPassword}, &out, nil)
	return out.AccessToken, err
}

// prepare gives every community what the day's work needs: a screening
// with its open tasks, residents under isolation with their links.
func prepare(ctx context.Context, api *API, comms []*community, residents int, today string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, c := range comms {
		g.Go(func() error {
			var rs page[struct {
				ID    string `json:"id"`
				Phone string `json:"phone"`
			}]
			if _, err := api.Do(ctx, "list", "GET", "/api/v1/orgs/"+c.Slug+"/residents?limit=500", c.Token, nil, &rs, nil); err != nil {
				return err
			}
			if len(rs.Items) < residents {
				return fmt.Errorf("%s: %d residents listed, %d imported", c.Slug, len(rs.Items), residents)
			}
			for j, r := range rs.Items {
				var cs struct {
					ID         string `json:"id"`
					CheckinURL string `json:"checkin_url"`
				}
				body := map[string]any{"resident_id": r.ID, "kind": "home_isolation", "start_date": today, "days": 14, "reason": "压测"}
				if _, err := api.Do(ctx, "isolation", "POST", "/api/v1/orgs/"+c.Slug+"/isolations", c.Token, body, &cs,
					map[string]string{"Idempotency-Key": fmt.Sprintf("load-case-%s-%d", c.Slug, j)}); err != nil {
					return err
				}
				tok := cs.CheckinURL[strings.LastIndex(cs.CheckinURL, "/r/")+3:]
				c.Cases = append(c.Cases, caseRef{ID: cs.ID, Token: tok, Phone: residentPhone(i+1, j+1)})
				c.Phones = append(c.Phones, residentPhone(i+1, j+1))
			}
			var sc struct {
				ID string `json:"id"`
			}
			if _, err := api.Do(ctx, "screening", "POST", "/api/v1/orgs/"+c.Slug+"/screenings", c.Token,
				map[string]any{"name": "压测排查", "method": "any"}, &sc, map[string]string{"Idempotency-Key": "load-screening-" + c.Slug}); err != nil {
				return err
			}
			var ts page[struct {
				ID string `json:"id"`
			}]
			if _, err := api.Do(ctx, "list", "GET", "/api/v1/orgs/"+c.Slug+"/screenings/"+sc.ID+"/tasks?status=open&limit=500", c.Token, nil, &ts, nil); err != nil {
				return err
			}
			for _, t := range ts.Items {
				c.Tasks = append(c.Tasks, "/api/v1/orgs/"+c.Slug+"/screenings/"+sc.ID+"/tasks/"+t.ID+"/attempts")
			}
			return nil
		})
	}
	return g.Wait()
}

// campaigns starts, in every community, an urgent SMS notice to audience
// and returns the campaign ids.
func startCampaigns(ctx context.Context, api *API, comms []*community, name string, audience map[string]any) ([]string, error) {
	var mu sync.Mutex
	var ids []string
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, c := range comms {
		g.Go(func() error {
			var cp struct {
				ID   string `json:"id"`
				Size int    `json:"audience_size"`
			}
			body := map[string]any{"name": name, "channel": "sms", "body": "【压测】请居民配合防疫工作，如有发热请回复体温。", "audience": audience, "urgent": true}
			if _, err := api.Do(ctx, "campaign", "POST", "/api/v1/orgs/"+c.Slug+"/campaigns", c.Token, body, &cp,
				map[string]string{"Idempotency-Key": "load-campaign-" + name + "-" + c.Slug}); err != nil {
				return err
			}
			if cp.Size == 0 {
				return nil
			}
			if _, err := api.Do(ctx, "campaign", "POST", "/api/v1/orgs/"+c.Slug+"/campaigns/"+cp.ID+"/send", c.Token, nil, nil, nil); err != nil {
				return err
			}
			mu.Lock()
			ids = append(ids, cp.ID)
			mu.Unlock()
			return nil
		})
	}
	return ids, g.Wait()
}
