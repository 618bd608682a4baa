{{/*
Invitations to an org for people who already have an account. A community
admin may not attach another community's user by username: that showed the
user's phone and told the admin which usernames exist. The admin invites
instead, and the invitation becomes a membership only when its user accepts
(pkg/orgs, invitations.go). Rows exist only for real accounts; an invitation
to an unknown username is answered the same and stored nowhere.

org_id, not tenant_id: like memberships, an invitation may be to a
sub-district, and it is the platform's record of a grant, not a community's.
*/}}
CREATE TABLE member_invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('subdistrict_official', 'community_admin', 'community_staff', 'grid_worker')),
    grids        {{.JSON}} NOT NULL,
    invited_by   TEXT NOT NULL REFERENCES users (id),
    created_at   {{.Time}} NOT NULL,
    expires_at   {{.Time}} NOT NULL,
    accepted_at  {{.Time}},
    declined_at  {{.Time}}
);
--bun:split
-- At most one open invitation per user and org: inviting again replaces it.
CREATE UNIQUE INDEX member_invitations_open_idx ON member_invitations (org_id, user_id)
    WHERE accepted_at IS NULL AND declined_at IS NULL;
--bun:split
CREATE INDEX member_invitations_user_idx ON member_invitations (user_id, id);
