package audit

import "github.com/google/uuid"

// The ids a read returned are most of a read entry: fifty UUIDs make about
// 2 KB of JSON, which PostgreSQL parses into jsonb, then compresses (the
// row is past its 2 KB TOAST threshold), on every list page anyone opens.
// Packed as 16 bytes each into the ids column they are 800 bytes that it
// stores as they come, and the entry reads back the same (expand).
// Ids that are not all canonical UUIDs stay in details as they were.

// packIDs moves details["ids"] into a packed column value when every id is
// a UUID written as uuid.UUID.String writes it, so that unpacking gives back
// the same strings; otherwise it returns nil and details is left alone.
func packIDs(details map[string]any) []byte {
	ids, ok := details["ids"].([]string)
	if !ok || len(ids) == 0 {
		return nil
	}
	b := make([]byte, 0, 16*len(ids))
	for _, s := range ids {
		u, err := uuid.Parse(s)
		if err != nil || len(s) != 36 || u.String() != s {
			return nil
		}
		b = append(b, u[:]...)
	}
	delete(details, "ids")
	return b
}

// unpackIDs is packIDs' inverse; a value whose length is not a multiple of
// 16 (never written so) gives nil.
func unpackIDs(b []byte) []string {
	if len(b) == 0 || len(b)%16 != 0 {
		return nil
	}
	out := make([]string, 0, len(b)/16)
	for i := 0; i < len(b); i += 16 {
		out = append(out, uuid.UUID(b[i:i+16]).String())
	}
	return out
}

// expand puts the packed ids back into Details, so that a reader sees an
// entry as it was recorded: as []any, the type an entry with its ids in
// details decodes them to.
func (e *Entry) expand() {
	ids := unpackIDs(e.IDs)
	if ids == nil {
		return
	}
	if e.Details == nil {
		e.Details = make(map[string]any, 1)
	}
	list := make([]any, len(ids))
	for i, id := range ids {
		list[i] = id
	}
	e.Details["ids"] = list
	e.IDs = nil
}
