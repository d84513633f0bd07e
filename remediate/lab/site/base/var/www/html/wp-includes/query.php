<?php
/**
 * WordPress-like lab stub for wp-includes/query.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'query.php';
