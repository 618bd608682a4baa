// Command wanjia is the whole platform in one binary: the API, the worker
// and the scheduler, together (`wanjia all`, the default) or apart.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		// One line saying what and where: operators read this in a
		// terminal or a pod's status, not a stack trace.
		fmt.Fprintln(os.Stderr, "wanjia: "+oneLine(err.Error()))
		os.Exit(1)
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
