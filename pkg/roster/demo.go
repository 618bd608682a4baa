package roster

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store"
)

// DemoSpec describes a synthetic community roster.
type DemoSpec struct {
	Seed       uint64
	Grids      []string // grid slugs, in order
	Buildings  int
	Households int
	// ElderlyShare is the share of residents born before 1962.
	ElderlyShare float64
	Street       string // e.g. "育才路"
}

// DemoPhonePrefix starts every demo phone number (17000000000–17000009999),
// a virtual-operator block that is not handed out to subscribers, so no
// real person is ever texted by a demo campaign.
const DemoPhonePrefix = "1700000"

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉海林波宁晨欣怡浩宇子涵梓轩佳琪思雨俊凯")
)

// SeedDemo fills the community in ctx with a deterministic synthetic
// roster: the same spec gives the same people every time, and running it
// again adds nothing (households are matched on their address key).
func (s *Service) SeedDemo(ctx context.Context, spec DemoSpec) (households, residents int, err error) {
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	err = s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		g, err := s.frame().Grids(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		// Buildings, spread over the grids in order.
		var existing []Building
		if err := tx.Select(&existing).Where("b.deleted_at IS NULL").Scan(ctx); err != nil {
			return err
		}
		byName := map[string]*Building{}
		for i := range existing {
			byName[existing[i].Name] = &existing[i]
		}
		var newBuildings []*Building
		blds := make([]*Building, spec.Buildings)
		for i := range blds {
			name := fmt.Sprintf("%d栋", i+1)
			b, ok := byName[name]
			if !ok {
				gridID, found := g.ID(spec.Grids[i*len(spec.Grids)/spec.Buildings])
				if !found {
					return fmt.Errorf("demo: no grid %s", spec.Grids[i*len(spec.Grids)/spec.Buildings])
				}
				b = &Building{ID: newID(), TenantID: tx.Tenant(), GridID: gridID, Name: name,
					Address: fmt.Sprintf("%s%d号", spec.Street, i+1), CreatedAt: now, UpdatedAt: now}
				newBuildings = append(newBuildings, b)
			}
			blds[i] = b
		}
		if len(newBuildings) > 0 {
			if _, err := tx.Insert(&newBuildings).Exec(ctx); err != nil {
				return fmt.Errorf("demo buildings: %w", err)
			}
		}

		// Households: unit and room numbers fill each building in turn.
		homes := make([]*Household, 0, spec.Households)
		keys := make([]string, 0, spec.Households)
		for i := 0; i < spec.Households; i++ {
			b := blds[i%spec.Buildings]
			k := i / spec.Buildings
			unit, room := fmt.Sprintf("%d单元", k/12+1), fmt.Sprintf("%d%02d", k%12/2+1, k%2+1)
			phone := fmt.Sprintf("%s%04d", DemoPhonePrefix, rng.IntN(10000))
			h := &Household{ID: newID(), TenantID: tx.Tenant(), GridID: b.GridID, BuildingID: &b.ID, Unit: unit, Room: room,
				Address: joinAddress(b, unit, room), AddressKey: addressKey(b.ID, unit, room, ""), Phone: phone,
				PhoneRev: reverse(phone), Tags: []string{}, CreatedAt: now, UpdatedAt: now}
			homes, keys = append(homes, h), append(keys, h.AddressKey)
		}
		known := map[string]bool{}
		for start := 0; start < len(keys); start += 500 {
			m, err := existingHouseholds(ctx, tx, keys[start:min(start+500, len(keys))])
			if err != nil {
				return err
			}
			for k := range m {
				known[k] = true
			}
		}
		var newHomes []*Household
		var people []*Resident
		for _, h := range homes {
			// Draw the household's people even when it exists, so that the
			// random stream and hence the data stay the same.
			members := demoPeople(rng, spec, h)
			if known[h.AddressKey] {
				continue
			}
			newHomes = append(newHomes, h)
			people = append(people, members...)
		}
		for start := 0; start < len(newHomes); start += 500 {
			batch := newHomes[start:min(start+500, len(newHomes))]
			if _, err := tx.Insert(&batch).Exec(ctx); err != nil {
				return fmt.Errorf("demo households: %w", err)
			}
		}
		for start := 0; start < len(people); start += 500 {
			batch := people[start:min(start+500, len(people))]
			if _, err := tx.Insert(&batch).Exec(ctx); err != nil {
				return fmt.Errorf("demo residents: %w", err)
			}
		}
		households, residents = len(newHomes), len(people)
		if households == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.ActionCreate, "roster", "demo", map[string]any{"households": households, "residents": residents})
	})
	return households, residents, err
}

func demoPeople(rng *rand.Rand, spec DemoSpec, h *Household) []*Resident {
	n := 1 + rng.IntN(4)
	surname := string(surnames[rng.IntN(len(surnames))])
	out := make([]*Resident, 0, n)
	for j := 0; j < n; j++ {
		name := surname
		if j > 0 && rng.IntN(3) == 0 {
			name = string(surnames[rng.IntN(len(surnames))]) // a spouse keeps her own surname
		}
		name += string(given[rng.IntN(len(given))])
		if rng.IntN(2) == 0 {
			name += string(given[rng.IntN(len(given))])
		}
		var year int
		var tags []string
		switch r := rng.Float64(); {
		case r < spec.ElderlyShare:
			year = 1930 + rng.IntN(32)
			tags = append(tags, TagElderly)
			if rng.IntN(4) == 0 {
				tags = append(tags, TagChronicIllness)
			}
		case r < spec.ElderlyShare+0.15 && j > 0:
			year = 2010 + rng.IntN(15)
			tags = append(tags, TagChild)
		default:
			year = 1962 + rng.IntN(42)
		}
		if n == 1 && year < 1962 {
			tags = append(tags, TagLivesAlone)
		}
		if tags == nil {
			tags = []string{}
		}
		sex := []string{"male", "female"}[rng.IntN(2)]
		phone := fmt.Sprintf("%s%04d", DemoPhonePrefix, rng.IntN(10000))
		y := year
		out = append(out, &Resident{ID: newID(), TenantID: h.TenantID, HouseholdID: h.ID, GridID: h.GridID, Name: name,
			Phone: phone, PhoneRev: reverse(phone), BirthYear: &y, Sex: sex, Tags: tags, CreatedAt: h.CreatedAt, UpdatedAt: h.CreatedAt})
	}
	return out
}
