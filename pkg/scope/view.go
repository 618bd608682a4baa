package scope

import (
	"context"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/pii"
)

// View is what the caller may see of personal data, by role: community
// staff call residents and see phones; officials above the community see
// masks; ID numbers are for the community's admins and staff, one record
// at a time.
type View struct {
	Role      string
	FullPhone bool
	FullID    bool
}

// ViewOf is the view of the caller in ctx; a context without a caller
// sees masks only.
func ViewOf(ctx context.Context) View {
	c, _ := authz.CallerFrom(ctx)
	v := View{Role: c.Role}
	switch c.Role {
	case authz.RoleCommunityAdmin, authz.RoleCommunityStaff:
		v.FullPhone, v.FullID = true, true
	case authz.RoleGridWorker:
		v.FullPhone = true
	}
	return v
}

// Phone is p as the caller may see it.
func (v View) Phone(p string) string {
	if v.FullPhone || p == "" {
		return p
	}
	return pii.MaskPhone(p)
}

// IDNumber is n as the caller may see it; whole only when one record is
// opened (one) by a role that sees ID numbers.
func (v View) IDNumber(n string, one bool) string {
	if n == "" || (v.FullID && one) {
		return n
	}
	return pii.MaskID(n)
}

// Masked reports whether the caller sees phones masked: the detail an
// audit entry of a read records.
func (v View) Masked() bool { return !v.FullPhone }
