// Package web is attnlab's dashboard.
package web
