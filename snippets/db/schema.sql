\restrict dbmate

-- Dumped from database version 18.4
-- Dumped by pg_dump version 18.4

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: set_updated_at(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at = clock_timestamp();
    RETURN NEW;
END;
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    principal text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    response jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT idempotency_keys_key_check CHECK (((char_length(key) >= 1) AND (char_length(key) <= 255)))
);


--
-- Name: message_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message_deliveries (
    id uuid NOT NULL,
    message_id uuid NOT NULL,
    outcome text NOT NULL,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT message_deliveries_error_check CHECK (((char_length(error) >= 1) AND (char_length(error) <= 2000))),
    CONSTRAINT message_deliveries_error_iff_failed CHECK (((outcome = 'failed'::text) = (error IS NOT NULL))),
    CONSTRAINT message_deliveries_outcome_check CHECK ((outcome = ANY (ARRAY['sent'::text, 'failed'::text])))
);


--
-- Name: messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages (
    id uuid NOT NULL,
    channel text NOT NULL,
    recipient text NOT NULL,
    body text NOT NULL,
    client_ref text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    version integer DEFAULT 1 NOT NULL,
    owner text,
    CONSTRAINT messages_body_check CHECK (((char_length(body) >= 1) AND (char_length(body) <= 4000))),
    CONSTRAINT messages_channel_check CHECK ((channel = ANY (ARRAY['email'::text, 'sms'::text]))),
    CONSTRAINT messages_client_ref_check CHECK (((char_length(client_ref) >= 1) AND (char_length(client_ref) <= 100))),
    CONSTRAINT messages_recipient_check CHECK (((char_length(recipient) >= 1) AND (char_length(recipient) <= 320)))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id uuid NOT NULL,
    webhook_id uuid NOT NULL,
    event text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    delivered_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    message_id uuid,
    CONSTRAINT webhook_deliveries_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT webhook_deliveries_delivered_at_iff_delivered CHECK (((status = 'delivered'::text) = (delivered_at IS NOT NULL))),
    CONSTRAINT webhook_deliveries_event_check CHECK ((event = ANY (ARRAY['message.created'::text, 'message.updated'::text, 'message.deleted'::text]))),
    CONSTRAINT webhook_deliveries_last_error_check CHECK ((char_length(last_error) <= 2000)),
    CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text, 'skipped'::text])))
);


--
-- Name: webhooks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhooks (
    id uuid NOT NULL,
    target_url text NOT NULL,
    event text NOT NULL,
    secret text NOT NULL,
    description text,
    is_active boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    owner text,
    CONSTRAINT webhooks_description_check CHECK (((char_length(description) >= 1) AND (char_length(description) <= 500))),
    CONSTRAINT webhooks_event_check CHECK ((event = ANY (ARRAY['message.created'::text, 'message.updated'::text, 'message.deleted'::text]))),
    CONSTRAINT webhooks_secret_check CHECK ((char_length(secret) >= 32)),
    CONSTRAINT webhooks_target_url_check CHECK (((target_url ~~ 'https://%'::text) AND (char_length(target_url) <= 2048)))
);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key);


--
-- Name: message_deliveries message_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_deliveries
    ADD CONSTRAINT message_deliveries_pkey PRIMARY KEY (id);


--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhooks webhooks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhooks
    ADD CONSTRAINT webhooks_pkey PRIMARY KEY (id);


--
-- Name: idempotency_keys_expires_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_expires_at_idx ON public.idempotency_keys USING btree (expires_at);


--
-- Name: message_deliveries_message_id_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_deliveries_message_id_created_at_idx ON public.message_deliveries USING btree (message_id, created_at);


--
-- Name: messages_client_ref_live_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX messages_client_ref_live_key ON public.messages USING btree (client_ref) WHERE (deleted_at IS NULL);


--
-- Name: messages_created_at_id_live_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_created_at_id_live_idx ON public.messages USING btree (created_at, id) WHERE (deleted_at IS NULL);


--
-- Name: messages_deleted_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_deleted_at_idx ON public.messages USING btree (deleted_at) WHERE (deleted_at IS NOT NULL);


--
-- Name: webhook_deliveries_message_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_message_id_idx ON public.webhook_deliveries USING btree (message_id);


--
-- Name: webhook_deliveries_pending_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_pending_idx ON public.webhook_deliveries USING btree (updated_at) WHERE (status = 'pending'::text);


--
-- Name: webhook_deliveries_webhook_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_webhook_id_idx ON public.webhook_deliveries USING btree (webhook_id);


--
-- Name: webhooks_created_at_id_live_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhooks_created_at_id_live_idx ON public.webhooks USING btree (created_at, id) WHERE (deleted_at IS NULL);


--
-- Name: webhooks_event_target_url_live_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX webhooks_event_target_url_live_key ON public.webhooks USING btree (event, target_url) WHERE (deleted_at IS NULL);


--
-- Name: message_deliveries message_deliveries_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER message_deliveries_set_updated_at BEFORE UPDATE ON public.message_deliveries FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: messages messages_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_set_updated_at BEFORE UPDATE ON public.messages FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: webhook_deliveries webhook_deliveries_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER webhook_deliveries_set_updated_at BEFORE UPDATE ON public.webhook_deliveries FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: webhooks webhooks_set_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER webhooks_set_updated_at BEFORE UPDATE ON public.webhooks FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: message_deliveries message_deliveries_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_deliveries
    ADD CONSTRAINT message_deliveries_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;


--
-- Name: webhook_deliveries webhook_deliveries_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;


--
-- Name: webhook_deliveries webhook_deliveries_webhook_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES public.webhooks(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict dbmate


--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20261126090000'),
    ('20261126090100'),
    ('20261126100348'),
    ('20261126101500'),
    ('20261126101600'),
    ('20261126103000'),
    ('20261126110000'),
    ('20261204193000'),
    ('20261204193100'),
    ('20261204203941'),
    ('20261205000000'),
    ('20261205003000'),
    ('20261205012500');
