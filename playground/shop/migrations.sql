-- The shop's schema: run by the migrate task on every up, so it must be safe to run again.
CREATE TABLE IF NOT EXISTS orders (
  id serial PRIMARY KEY,
  item text NOT NULL CHECK (length(item) BETWEEN 1 AND 200),
  quantity integer NOT NULL CHECK (quantity > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
