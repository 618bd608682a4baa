package isolation

import "context"

// SweepBlind sweeps as a second scheduler that read the steps' marks just
// before the first committed them: only each step's own mark, written in
// its transaction, stands between it and doing the step again.
func (s *Service) SweepBlind(ctx context.Context) (Swept, error) { return s.sweep(ctx, true) }
