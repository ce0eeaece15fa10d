module github.com/edge-drop/edge-drop/contract

go 1.25.0
