//go:build browser

// The browser test renders the review report in a real headless Chromium.
// It needs a chromium binary (Debian: apt-get install chromium); .ci/run
// installs it and runs: go test -tags browser -run Browser ./cmd/clustersim

package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $CHROMIUM, or chromium on the PATH.
func chromium(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: install it (apt-get install -y chromium) or set $CHROMIUM")
	return ""
}

// profile is an empty Chromium profile directory. Chromium's helper
// processes can still be writing to it for a moment after the browser is
// stopped, so it is removed with a few retries rather than by t.TempDir.
func profile(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "clustersim-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

func TestBrowserReport(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var errb bytes.Buffer
	if err := runReport(context.Background(), &streams{out: &bytes.Buffer{}, err: &errb}, &reportOptions{scenario: "llama3-405b", sets: []string{"trials=8"}, out: page}); err != nil {
		t.Fatal(err)
	}
	for _, vp := range []struct {
		name string
		w, h int
	}{{"desktop", 1400, 900}, {"phone", 390, 844}} {
		t.Run(vp.name, func(t *testing.T) { browse(t, page, vp.w, vp.h) })
	}
}

// browse renders page in a window w×h CSS pixels and checks it: no console
// problems, no horizontal overflow, the four answers inside the first
// viewport, every chart drawn with alt text. $SCREENSHOT_DIR keeps the
// screenshots (NAME-W.png).
func browse(t *testing.T, page string, w, h int) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile(t)),
		chromedp.WindowSize(w, h),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				problems = append(problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		}
	})
	var shot []byte
	var charts int
	var heights []float64
	var overflow struct {
		ScrollWidth, InnerWidth, InnerHeight float64
	}
	var answers map[string]float64 // answer id → its bottom edge (px from the top of the page)
	var unlabelled []string
	if err := chromedp.Run(ctx,
		emulation.SetDeviceMetricsOverride(int64(w), int64(h), 1, w < 600),
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible("#card-days", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("figure svg").length`, &charts),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("figure svg")).map(s => s.getBoundingClientRect().height)`, &heights),
		chromedp.Evaluate(`({ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth, InnerHeight: window.innerHeight})`, &overflow),
		chromedp.Evaluate(`Object.fromEntries(["answer-layout","answer-cost","answer-sure","answer-bigger"].map(id => { const e = document.getElementById(id); return [id, e ? e.getBoundingClientRect().bottom + window.scrollY : -1]; }))`, &answers),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("svg, img")).filter(e => !(e.getAttribute("aria-label") || e.getAttribute("alt"))).map(e => e.outerHTML.slice(0, 80))`, &unlabelled),
		chromedp.CaptureScreenshot(&shot),
	); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged problems: %v", problems)
	}
	if charts < 5 {
		t.Errorf("%d charts rendered, want at least 5", charts)
	}
	for i, hh := range heights {
		if hh < 100 {
			t.Errorf("chart %d is %g px high", i, hh)
		}
	}
	if overflow.ScrollWidth > overflow.InnerWidth {
		t.Errorf("%d px wide: the page is %g px wide in a %g px window (horizontal overflow)", w, overflow.ScrollWidth, overflow.InnerWidth)
	}
	for _, id := range []string{"answer-layout", "answer-cost", "answer-sure", "answer-bigger"} {
		b, ok := answers[id]
		if !ok || b < 0 {
			t.Errorf("%d px: no #%s", w, id)
		} else if b > overflow.InnerHeight {
			t.Errorf("%d px: #%s ends at %g px, below the first screen (%g px)", w, id, b, overflow.InnerHeight)
		}
	}
	if len(unlabelled) > 0 {
		t.Errorf("charts without alt text: %v", unlabelled)
	}
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("report-%d.png", w)), shot, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if f := inked(img); f < 0.02 {
		t.Errorf("the screenshot is blank: %.2f%% of its pixels are not background", 100*f)
	}
}

// inked is the fraction of pixels that differ from the top-left one.
func inked(img image.Image) float64 {
	b := img.Bounds()
	bg := color.RGBAModel.Convert(img.At(b.Min.X, b.Min.Y))
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) != bg {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}
