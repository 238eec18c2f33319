//! sdl (in progress)
