DROP TABLE IF EXISTS member_invitations;
