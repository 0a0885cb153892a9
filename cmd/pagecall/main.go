// Command pagecall is the command-line client for the Pagecall API.
package main

func main() {}
