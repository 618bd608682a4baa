// Package logs is the office's logs of its own work (DOMAIN.md 3 and 7):
// publicity (宣传: notices, posters and letters put up, WeChat group posts,
// counted) and disinfection rounds (消毒: which place, when, by whom), each
// listed, filtered and exported as the sheets offices hand upwards, and the
// notices posted that the daily report counts. Outreach logs the notices it
// posts to a community's WeCom group here (LogGroupPost).
package logs

import (
	"time"

	"github.com/uptrace/bun"
)

// Publicity is one entry of the publicity log (宣传).
type Publicity struct {
	bun.BaseModel `bun:"table:publicity,alias:p"`
	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	Date          string    `bun:"date"`
	Kind          string    `bun:"kind"`
	Count         int       `bun:"count"`
	GridID        *string   `bun:"grid_id"`
	Notes         string    `bun:"notes"`
	ByUser        string    `bun:"by_user"`
	ByName        string    `bun:"by_name"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Kinds of publicity.
const (
	PublicityNotice = "notice"
	PublicityPoster = "poster"
	PublicityLetter = "letter"
	PublicityWeChat = "wechat"
)

// PublicityKinds lists them in the order forms offer them.
var PublicityKinds = []string{PublicityNotice, PublicityPoster, PublicityLetter, PublicityWeChat}

// Disinfection is one round of the disinfection log (消毒).
type Disinfection struct {
	bun.BaseModel `bun:"table:disinfections,alias:d"`
	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	Place         string    `bun:"place"`
	At            time.Time `bun:"at"`
	LocalDate     string    `bun:"local_date"`
	GridID        *string   `bun:"grid_id"`
	Notes         string    `bun:"notes"`
	ByUser        string    `bun:"by_user"`
	ByName        string    `bun:"by_name"`
	CreatedAt     time.Time `bun:"created_at"`
}
