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
//
// Every line goes out in a single Write call (prefix, text and newline in one
// buffer): the app writes to the same stderr through its own descriptor,
// without this lock, and a line written in two pieces could get an app line
// between its prefix and its text. A pipe keeps a write of up to PIPE_BUF
// (4096 bytes on Linux) in one piece; a longer line can still be split by
// another process's writes, and lines longer than maxLineChunk are written in
// pieces.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
}

// writeLine writes p, normally one whole line, with one Write call.
func (w *lineWriter) writeLine(p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Nothing sensible can be done when stderr itself fails.
	_, _ = w.out.Write(p)
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
	buf := make([]byte, 0, len(prefix)+maxLineChunk+1)
	midLine := false
	for {
		chunk, err := br.ReadSlice('\n')
		last := err != nil && !errors.Is(err, bufio.ErrBufferFull)
		buf = buf[:0]
		if len(chunk) > 0 {
			if !midLine {
				buf = append(buf, prefix...)
			}
			buf = append(buf, chunk...)
			midLine = chunk[len(chunk)-1] != '\n'
		}
		if last && midLine {
			buf = append(buf, '\n')
		}
		if len(buf) > 0 {
			w.writeLine(buf)
		}
		if last {
			return
		}
	}
}
