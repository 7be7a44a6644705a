#pragma once
/// @file uvsqlite.hpp
/// Umbrella header: the aiosqlite API for programs built on a libuv event loop.

#include "uvsqlite/adapters.hpp"
#include "uvsqlite/backup.hpp"
#include "uvsqlite/completion.hpp"
#include "uvsqlite/connection.hpp"
#include "uvsqlite/cursor.hpp"
#include "uvsqlite/errors.hpp"
#include "uvsqlite/factories.hpp"
#include "uvsqlite/functions.hpp"
#include "uvsqlite/hooks.hpp"
#include "uvsqlite/options.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"
#include "uvsqlite/sql_text.hpp"
#include "uvsqlite/value.hpp"
