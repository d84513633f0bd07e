<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-date-query.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-date-query.php';
