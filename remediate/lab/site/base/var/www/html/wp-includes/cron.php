<?php
/**
 * WordPress-like lab stub for wp-includes/cron.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'cron.php';
