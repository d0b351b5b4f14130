package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// maxLineChunk is the longest piece of a line held in memory; longer lines
// are written in pieces, with the prefix only before the first one.
const maxLineChunk = 64 * 1024

// lineWriter serialises whole lines from several sources onto one writer
// (the supervisor's stderr), so that supervisor messages and collector lines
// never interleave in the middle of a line.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (w *lineWriter) writeLine(parts ...[]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range parts {
		// Nothing sensible can be done when stderr itself fails.
		_, _ = w.out.Write(p)
	}
}

// logf writes one message of the supervisor itself.
func (w *lineWriter) logf(format string, args ...any) {
	w.writeLine([]byte("supervisor: " + fmt.Sprintf(format, args...) + "\n"))
}

// errorf writes one error message of the supervisor itself.
func (w *lineWriter) errorf(format string, args ...any) {
	w.logf("error: "+format, args...)
}

// copyLines copies r to w line by line, each line starting with prefix.
// A last line without a newline gets one. It returns at EOF or on a read
// error.
func (w *lineWriter) copyLines(r io.Reader, prefix string) {
	br := bufio.NewReaderSize(r, maxLineChunk)
	pre := []byte(prefix)
	newline := []byte("\n")
	midLine := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			complete := chunk[len(chunk)-1] == '\n'
			if midLine {
				w.writeLine(chunk)
			} else {
				w.writeLine(pre, chunk)
			}
			midLine = !complete
		}
		if err == nil || errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if midLine {
			w.writeLine(newline)
		}
		return
	}
}
