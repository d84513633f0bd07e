<?php
/**
 * WordPress-like lab stub for wp-includes/https-migration.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'https-migration.php';
