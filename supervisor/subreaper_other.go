//go:build !linux

package main

// becomeSubreaper does nothing where child subreapers do not exist.
func becomeSubreaper() error { return nil }
