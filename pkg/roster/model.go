// Package roster is a community's roster: buildings, households and the
// residents who live in them; search, masking of personal data per role,
// duplicate detection, and spreadsheet import and export.
package roster

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
)

// Building is a residential building (楼栋) in one grid.
type Building struct {
	bun.BaseModel `bun:"table:buildings,alias:b"`
	ID            string     `bun:"id,pk"`
	TenantID      string     `bun:"tenant_id"`
	GridID        string     `bun:"grid_id"`
	Name          string     `bun:"name"`
	Address       string     `bun:"address"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
	DeletedAt     *time.Time `bun:"deleted_at"`
}

// Household is one dwelling (户): a room of a building, or a free address.
type Household struct {
	bun.BaseModel `bun:"table:households,alias:h"`
	ID            string     `bun:"id,pk"`
	TenantID      string     `bun:"tenant_id"`
	GridID        string     `bun:"grid_id"`
	BuildingID    *string    `bun:"building_id"`
	Unit          string     `bun:"unit"`
	Room          string     `bun:"room"`
	Address       string     `bun:"address"`
	AddressKey    string     `bun:"address_key"`
	Phone         string     `bun:"phone"`
	PhoneRev      string     `bun:"phone_rev"`
	Tags          store.Tags `bun:"tags"`
	Notes         string     `bun:"notes"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
	DeletedAt     *time.Time `bun:"deleted_at"`
}

// Resident is a person living in a household (居民).
type Resident struct {
	bun.BaseModel `bun:"table:residents,alias:r"`
	ID            string     `bun:"id,pk"`
	TenantID      string     `bun:"tenant_id"`
	HouseholdID   string     `bun:"household_id"`
	GridID        string     `bun:"grid_id"`
	Name          string     `bun:"name"`
	Phone         string     `bun:"phone"`
	PhoneRev      string     `bun:"phone_rev"`
	IDNumber      *string    `bun:"id_number"`
	BirthYear     *int       `bun:"birth_year"`
	Sex           string     `bun:"sex"`
	Tags          store.Tags `bun:"tags"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
	DeletedAt     *time.Time `bun:"deleted_at"`
}

// Well-known resident tags; offices may add their own.
const (
	TagElderly        = "elderly"
	TagLivesAlone     = "lives_alone"
	TagDisabled       = "disabled"
	TagChronicIllness = "chronic_illness"
	TagPregnant       = "pregnant"
	TagChild          = "child"
)

// tagAliases maps what offices write in spreadsheets to the tags.
var tagAliases = map[string]string{
	"elderly": TagElderly, "老人": TagElderly, "老年人": TagElderly, "高龄": TagElderly,
	"lives_alone": TagLivesAlone, "独居": TagLivesAlone, "独居老人": TagLivesAlone,
	"disabled": TagDisabled, "残疾": TagDisabled, "残疾人": TagDisabled,
	"chronic_illness": TagChronicIllness, "慢性病": TagChronicIllness, "慢病": TagChronicIllness,
	"pregnant": TagPregnant, "孕妇": TagPregnant, "孕产妇": TagPregnant,
	"child": TagChild, "儿童": TagChild, "婴幼儿": TagChild,
}

// reverse returns s reversed (digits only are stored, so bytes suffice).
func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// phoneDigits keeps the digits of a normalised phone for suffix search.
func phoneDigits(p string) string {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] >= '0' && p[i] <= '9' {
			out = append(out, p[i])
		}
	}
	return string(out)
}
